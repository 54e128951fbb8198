#!/usr/bin/env python3
"""Build kube-apiserver and kube-controller-manager from the Go module proxy, once, into a cache.

A throw-away module requires k8s.io/kubernetes at a tagged version and pins each k8s.io/* staging
module to the matching v0.x version (k8s.io/kubernetes itself replaces them with ./staging paths,
which do not exist in its module zip). Binaries land in $CHARTGEN_CACHE/kube/vX.Y.Z (default
~/.cache/chartgen); a second run only checks they are there. The first build takes several
minutes on two cores (see the README).
Usage: scripts/install_kube.py [--version 1.35.0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VERSION = "1.35.0"
STAGING = ["api", "apiextensions-apiserver", "apimachinery", "apiserver", "cli-runtime", "client-go",
           "cloud-provider", "cluster-bootstrap", "code-generator", "component-base", "component-helpers",
           "controller-manager", "cri-api", "cri-client", "csi-translation-lib", "dynamic-resource-allocation",
           "endpointslice", "externaljwt", "kms", "kube-aggregator", "kube-controller-manager", "kube-proxy",
           "kube-scheduler", "kubectl", "kubelet", "metrics", "mount-utils", "pod-security-admission",
           "sample-apiserver", "sample-cli-plugin", "sample-controller"]
COMMANDS = ["kube-apiserver", "kube-controller-manager"]


def cache_dir(version: str) -> Path:
    base = os.environ.get("CHARTGEN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "chartgen")
    return Path(base) / "kube" / f"v{version}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSION)
    args = parser.parse_args()
    target = cache_dir(args.version)
    if all((target / c).is_file() for c in COMMANDS):
        reported = subprocess.run([str(target / "kube-apiserver"), "--version"], capture_output=True, text=True,
                                  check=False).stdout.strip()
        print(f"kube {args.version}: cached in {target} ({reported or 'kube-apiserver does not run'})")
        return 0
    minor = args.version.split(".", 1)[1]
    replaces = "\n".join(f"\tk8s.io/{m} => k8s.io/{m} v0.{minor}" for m in STAGING)
    with tempfile.TemporaryDirectory(prefix="chartgen-kube-") as tmp:
        work = Path(tmp)
        (work / "go.mod").write_text(f"module chartgen.local/kubebuild\n\ngo 1.25.0\n\n"
                                     f"require k8s.io/kubernetes v{args.version}\n\nreplace (\n{replaces}\n)\n")
        (work / "tools.go").write_text("//go:build tools\n\npackage tools\n\nimport (\n"
                                       + "".join(f'\t_ "k8s.io/kubernetes/cmd/{c}"\n' for c in COMMANDS) + ")\n")
        env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0", "GOTOOLCHAIN": "local"}
        start = time.monotonic()
        subprocess.run(["go", "mod", "tidy"], cwd=work, env=env, check=True)
        out = work / "bin"
        major, minor_number = args.version.split(".")[:2]
        # Kubernetes learns its own version from -ldflags; without them it reports v0.0.0 and charts'
        # kubeVersion constraints fail.
        stamp = " ".join(f"-X k8s.io/component-base/version.{k}={v}" for k, v in (
            ("gitVersion", f"v{args.version}"), ("gitMajor", major), ("gitMinor", minor_number),
            ("gitTreeState", "clean"), ("buildDate", "1980-01-01T00:00:00Z")))
        for command in COMMANDS:
            subprocess.run(["go", "build", "-trimpath", "-ldflags", f"-s -w {stamp}", "-o", str(out / command),
                            f"k8s.io/kubernetes/cmd/{command}"], cwd=work, env=env, check=True)
        target.mkdir(parents=True, exist_ok=True)
        for command in COMMANDS:
            shutil.copy2(out / command, target / command)
        print(f"kube {args.version}: built {', '.join(COMMANDS)} in {time.monotonic() - start:.0f} s -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
