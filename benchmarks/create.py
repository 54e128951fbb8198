#!/usr/bin/env python3
"""Time `chartgen chart create` (a whole process, as a user runs it) next to `helm create`.

Prints medians and the ratio; run with `make bench` or `.venv/bin/python benchmarks/create.py [RUNS]`.
Not a test: numbers on shared machines are noisy, so nothing here asserts.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import chartgen_cmd, fresh_dir, helm_path, precompile, summary, time_runs


def main() -> int:
    precompile()
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results = {}
        for label, argv in {
            "chartgen chart create": lambda i: [*chartgen_cmd(), "-q", "chart", "create", f"svc{i}", "-d",
                                                str(work / "cg")],
            "helm 4 create": lambda i: [helm_path(4), "create", str(work / "h4" / f"svc{i}")],
            "helm 3 create": lambda i: [helm_path(3), "create", str(work / "h3" / f"svc{i}")],
        }.items():
            out = work / {"chartgen chart create": "cg", "helm 4 create": "h4", "helm 3 create": "h3"}[label]
            fresh_dir(out)
            results[label] = time_runs(argv, runs)
            print(summary(label, results[label]))
    ours = statistics.median(results["chartgen chart create"])
    for other in ("helm 4 create", "helm 3 create"):
        print(f"chartgen / {other}: {ours / statistics.median(results[other]):.2f}x the time "
              f"(chartgen writes 22 files incl. schema, README, profiles; helm create writes 11)")
    print(f"chartgen chart create median: {ours * 1000:.0f} ms (target: well under 1000 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
