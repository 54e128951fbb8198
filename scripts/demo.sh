#!/usr/bin/env bash
# The main job on its embedded default: scaffold a Go service with its chart, test the service, lint the
# chart with real helm 3 and 4 (every env
# profile), package it reproducibly, publish it into a local directory repository, and prove the
# repository works with `helm repo add` + `helm show chart`. Everything lands in ./demo (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
HELM3=$PWD/.tools/bin/helm3
HELM4=$PWD/.tools/bin/helm4
OUT=demo
rm -rf "$OUT"
mkdir -p "$OUT"
# helm state of the demo stays in ./demo, not in the user's helm config.
export HELM_CONFIG_HOME=$PWD/$OUT/.helm/config HELM_CACHE_HOME=$PWD/$OUT/.helm/cache HELM_DATA_HOME=$PWD/$OUT/.helm/data

echo "==> chartgen new hello-go (the Go service and its chart)"
chartgen new hello-go --output-dir "$OUT" --no-input --image-repository registry.example.com/acme/hello-go \
  --app-version 1.0.0 --module example.com/acme/hello-go
CHART="$OUT/hello-go/charts/hello-go"
if command -v go >/dev/null; then
  echo "==> go vet + go test of the generated service"
  (cd "$OUT/hello-go" && GOFLAGS=-mod=readonly go vet ./... && GOFLAGS=-mod=readonly go test ./...)
fi

for helm in "$HELM3" "$HELM4"; do
  echo "==> chartgen lint --strict (helm $("$helm" version --template '{{.Version}}'), every profile)"
  chartgen lint --strict --helm "$helm" "$CHART"
done

echo "==> chartgen package (reproducible: packaging twice gives the same bytes)"
chartgen -v package "$CHART" -d "$OUT/dist"
first=$(sha256sum "$OUT/dist/hello-go-0.1.0.tgz" | cut -d' ' -f1)
touch "$CHART"/*
chartgen -q package "$CHART" -d "$OUT/dist"
[[ $(sha256sum "$OUT/dist/hello-go-0.1.0.tgz" | cut -d' ' -f1) == "$first" ]] || { echo "not reproducible" >&2; exit 1; }

echo "==> chartgen publish --repo file://$OUT/repo (twice: the second run is a skip)"
chartgen publish "$OUT/dist/hello-go-0.1.0.tgz" --repo "file://$OUT/repo"
chartgen publish "$OUT/dist/hello-go-0.1.0.tgz" --repo "file://$OUT/repo"

echo "==> helm repo add + helm show chart against the repository, served on 127.0.0.1"
python3 scripts/serve_repo.py "$OUT/repo" -- bash -c '
  "$0" repo add chartgen-demo "$REPO_URL" >/dev/null && "$0" show chart chartgen-demo/hello-go' "$HELM4"

cat <<MSG

The repository is $OUT/repo (index.yaml + hello-go-0.1.0.tgz). Serve it over HTTP and install from it:
  python3 -m http.server --bind 127.0.0.1 8879 --directory $OUT/repo &
  helm repo add chartgen-demo http://127.0.0.1:8879
  helm install hello-go chartgen-demo/hello-go -f $CHART/values-prod.yaml
MSG
