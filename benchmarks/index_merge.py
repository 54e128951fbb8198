#!/usr/bin/env python3
"""Merge one new archive into a 20,000-entry index: `chartgen index --merge` vs `helm repo index --merge`.

The index (400 charts x 50 versions) is written by helm itself first, so both tools start from
exactly what a helm-managed repository holds. Each tool then merges the same new archive into it,
same machine, same run; medians and the ratio are printed, plus the JSON-index variant.
Usage: benchmarks/index_merge.py [RUNS]. Not a test: nothing asserts on time.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import chartgen_cmd, helm_path, precompile, summary, time_runs

from chartgen import create_chart
from chartgen.archive import package_chart
from chartgen.index import IndexFile, emit_yaml

CHARTS, VERSIONS = 400, 50


def synthetic_document() -> dict:
    entries = {}
    for c in range(CHARTS):
        name = f"chart-{c:03d}"
        versions = []
        for v in range(VERSIONS):
            version = f"{v // 10}.{v % 10}.0"
            versions.append({
                "apiVersion": "v2", "appVersion": f"1.{v}.0", "created": "2025-01-02T03:04:05.123456789Z",
                "description": f"A Helm chart for {name}", "type": "application", "name": name, "version": version,
                "digest": hashlib.sha256(f"{name}-{version}".encode()).hexdigest(),
                "home": "https://example.com", "keywords": ["go", "http"],
                "maintainers": [{"name": "team", "email": "team@example.com"}],
                "urls": [f"https://charts.example.com/{name}-{version}.tgz"],
            })
        entries[name] = list(reversed(versions))
    return {"apiVersion": "v1", "entries": entries, "generated": "2025-01-02T03:04:05.123456789Z"}


def main() -> int:
    precompile()
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    helm4 = helm_path(4)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # The base index, as helm writes it.
        (work / "empty").mkdir()
        (work / "synthetic.yaml").write_text(emit_yaml(synthetic_document()))
        subprocess.run([helm4, "repo", "index", str(work / "empty"), "--merge", str(work / "synthetic.yaml")],
                       check=True)
        base_yaml = work / "base.yaml"
        shutil.move(work / "empty" / "index.yaml", base_yaml)
        base_json = work / "base.json"
        base_json.write_text(json.dumps(yaml_to_doc(base_yaml)))
        # One new archive in the repository directory.
        create_chart("newcomer", work / "src")
        repo = work / "repo"
        package_chart(work / "src" / "newcomer", repo)
        version = subprocess.run([helm4, "version", "--short"], capture_output=True, text=True).stdout.strip()
        print(f"base index: {len(IndexFile.load(base_yaml))} entries, {base_yaml.stat().st_size / 1e6:.1f} MB "
              f"(written by helm {version})")

        def reset(_: int) -> None:
            (repo / "index.yaml").unlink(missing_ok=True)

        # Interleave the tools run by run, so drift in machine speed hits both alike.
        results: dict[str, list[float]] = {}
        for label, base in (("yaml", base_yaml), ("json", base_json)):
            for _ in range(runs):
                for tool, argv in (
                        (f"chartgen ({label})", [*chartgen_cmd(), "-q", "index", str(repo), "--merge", str(base)]),
                        (f"helm 4 ({label})", [helm4, "repo", "index", str(repo), "--merge", str(base)])):
                    results.setdefault(tool, []).extend(time_runs(lambda _, a=argv: a, 1, reset))
                    check(repo / "index.yaml", CHARTS * VERSIONS + 1)
        for label, times in results.items():
            print(summary(label, times))
        for label in ("yaml", "json"):
            ours = statistics.median(results[f"chartgen ({label})"])
            theirs = statistics.median(results[f"helm 4 ({label})"])
            print(f"{label} index: chartgen is {theirs / ours:.1f}x faster than helm 4 repo index --merge "
                  f"({ours * 1000:.0f} ms vs {theirs * 1000:.0f} ms; target >= 10x)")
    return 0


def yaml_to_doc(path: Path) -> dict:
    index = IndexFile.load(path)
    return index.document()


def check(path: Path, expected: int) -> None:
    got = len(IndexFile.load(path))
    if got != expected:
        sys.exit(f"wrong result: {path} has {got} entries, expected {expected}")


if __name__ == "__main__":
    sys.exit(main())
