#!/usr/bin/env python3
"""Lint the 10 charts of a generated monorepo: `chartgen lint` vs a sequential `helm lint` loop.

chartgen does far more per chart (every env profile, two Kubernetes versions, strict schema
validation of every rendered manifest, 25 rules), with helm calls batched across charts (see
chartgen/lint_batch.py); the loop runs `helm lint` once per chart.
Prints medians and the ratio; nothing asserts on time.
Usage: benchmarks/lint.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import chartgen_cmd, helm_path, precompile, summary, time_runs

from chartgen import create_chart


def main() -> int:
    precompile()
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    helm4 = helm_path(4)
    with tempfile.TemporaryDirectory() as tmp:
        charts = Path(tmp) / "charts"
        dirs = [create_chart(f"service-{i:02d}", charts).path for i in range(10)]
        loop = ["bash", "-c", 'for c in "$@"; do "$0" lint "$c" >/dev/null || exit 1; done', helm4, *dirs]
        loop_strict = ["bash", "-c", 'for c in "$@"; do "$0" lint --strict "$c" >/dev/null || exit 1; done', helm4,
                       *dirs]
        ours = [*chartgen_cmd(), "-q", "lint", "--strict", "--helm", helm4, *dirs]
        results = {
            "chartgen lint (10 charts)": time_runs(lambda _: ours, runs),
            "helm lint loop": time_runs(lambda _: loop, runs),
            "helm lint --strict loop": time_runs(lambda _: loop_strict, runs),
        }
    for label, times in results.items():
        print(summary(label, times))
    ours_t = statistics.median(results["chartgen lint (10 charts)"])
    loop_t = statistics.median(results["helm lint loop"])
    # chartgen lints 10 charts x 4 profiles (helm lint + helm template, batched across charts, schema
    # validation for 2 Kubernetes versions, the rules); the loop runs 1 helm lint per chart.
    pairs = 10 * 4
    print(f"chartgen lint / helm lint loop: {ours_t / loop_t:.1f}x the time, for 4 profiles x (helm lint + "
          f"helm template + schema validation for 2 Kubernetes versions + rules) per chart vs 1 helm lint per "
          f"chart: {ours_t / pairs * 1000:.0f} ms per chart and profile vs {loop_t / 10 * 1000:.0f} ms per chart")
    return 0


if __name__ == "__main__":
    sys.exit(main())
