#!/usr/bin/env python3
"""A 100-chart monorepo with 5 changed charts: `chartgen release` vs the script a release job would
otherwise run (`helm lint` + `helm package` of every chart, then `helm repo index --merge`).

Both publish into a local directory repository that already holds the 100 charts' current versions.
chartgen lints, packages and publishes only the changed charts (bumped), with more checks per chart;
the script redoes every chart. Prints medians and the ratio (target: at least 5x); nothing asserts.
Usage: benchmarks/release.py [RUNS]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import chartgen_cmd, helm_path, precompile, summary

from chartgen import create_chart
from chartgen.archive import package_charts
from chartgen.repo_index import index

CHARTS, CHANGED = 100, [7, 23, 42, 61, 88]


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@e", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@e"}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def setup(work: Path) -> Path:
    repo = work / "mono"
    dirs = [create_chart(f"svc-{i:03d}", repo / "charts").path for i in range(CHARTS)]
    published = repo / "published"
    package_charts(dirs, published)
    index(published)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "tag", "base")
    for i in CHANGED:
        values = repo / "charts" / f"svc-{i:03d}" / "values.yaml"
        values.write_text(values.read_text() + "# changed\n")
    return repo


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv[:3])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> int:
    precompile()
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    helm4 = helm_path(4)
    script = (f'set -e; mkdir -p out; for c in charts/*; do "{helm4}" lint "$c" >/dev/null; '
              f'"{helm4}" package "$c" -d out >/dev/null; done; '
              f'"{helm4}" repo index out --merge published/index.yaml')
    results: dict[str, list[float]] = {"chartgen release": [], "helm lint + package loop + repo index": []}
    with tempfile.TemporaryDirectory() as tmp:
        pristine = setup(Path(tmp) / "pristine")
        for run in range(runs):
            for label in results:
                work = Path(tmp) / f"run-{run}-{len(results[label])}-{label.split()[0]}"
                shutil.copytree(pristine, work, symlinks=True)
                if label == "chartgen release":
                    argv = [*chartgen_cmd(), "-q", "release", "--since", "base", "--repo",
                            f"file://{work}/published", "--helm", helm4]
                else:
                    argv = ["bash", "-c", script]
                results[label].append(timed(argv, work))
                shutil.rmtree(work)
    for label, times in results.items():
        print(summary(label, times))
    ours = statistics.median(results["chartgen release"])
    theirs = statistics.median(results["helm lint + package loop + repo index"])
    print(f"chartgen release is {theirs / ours:.1f}x faster ({ours:.1f} s vs {theirs:.1f} s; target >= 5x); it "
          f"lints {len(CHANGED)} charts x 4 profiles x 2 Kubernetes versions, the script {CHARTS} charts once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
