#!/usr/bin/env python3
"""Time `chartgen new` (a whole process: render the Go service and its chart, no Go build).

Target: under a second. Usage: benchmarks/new.py [RUNS]. Nothing asserts on time.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import chartgen_cmd, precompile, summary, time_runs


def main() -> int:
    precompile()
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for framework in ("stdlib", "gin"):
            results[framework] = time_runs(
                lambda i, f=framework: [*chartgen_cmd(), "-q", "new", f"svc-{f}-{i}", "-d", tmp, "--no-input",
                                        "--framework", f, "--ci", "github,gitlab,jenkins"], runs)
            print(summary(f"chartgen new ({framework})", results[framework]))
    worst = max(statistics.median(t) for t in results.values())
    print(f"chartgen new median: {worst * 1000:.0f} ms (target: under 1000 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
