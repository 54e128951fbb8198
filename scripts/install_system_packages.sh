#!/usr/bin/env bash
# Debian packages the integration tests need: the CNCF distribution registry (docker-registry),
# Apache httpd with mod_dav (apache2) for the static repository, etcd (etcd-server) for the end-to-end
# tests' control plane,
# and htpasswd (apache2-utils). Idempotent: installs only what is missing. Needs root (CI is root).
set -euo pipefail
packages=(docker-registry apache2 apache2-utils openssl etcd-server)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "error: missing Debian packages ${missing[*]}; run this script as root (or install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: packages must not start their services here; the tests start their own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[[ $created_policy -eq 1 ]] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
