#!/usr/bin/env bash
# The main job on its embedded default: scaffold a chart, lint it with real helm 3 and 4,
# package it, and show how to install it. Everything lands in ./demo (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
HELM3=.tools/bin/helm3
HELM4=.tools/bin/helm4
OUT=demo
rm -rf "$OUT"
mkdir -p "$OUT/packages"

echo "==> chartgen chart create hello-go"
chartgen chart create hello-go --output-dir "$OUT/charts" --image-repository registry.example.com/acme/hello-go \
  --app-version 1.0.0

for helm in "$HELM3" "$HELM4"; do
  for profile in "" dev staging prod; do
    args=()
    [[ -n "$profile" ]] && args=(-f "$OUT/charts/hello-go/values-$profile.yaml")
    echo "==> $($helm version --template '{{.Version}}') lint --strict ${profile:-default}"
    if ! out=$("$helm" lint --strict "$OUT/charts/hello-go" "${args[@]}" 2>&1); then
      echo "$out" >&2
      exit 1
    fi
    echo "$out" | grep linted
  done
done

echo "==> helm package"
"$HELM4" package "$OUT/charts/hello-go" --destination "$OUT/packages"

echo "==> helm show chart"
"$HELM4" show chart "$OUT"/packages/hello-go-0.1.0.tgz

cat <<MSG

Install it (prod profile) into the current kube context:
  helm install hello-go $OUT/packages/hello-go-0.1.0.tgz -f $OUT/charts/hello-go/values-prod.yaml
MSG
