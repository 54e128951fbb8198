"""Shared helpers of the benchmark scripts: locating tools and timing commands."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def helm_path(major: int) -> str:
    path = os.environ.get(f"CHARTGEN_TEST_HELM{major}") or str(ROOT / ".tools" / "bin" / f"helm{major}")
    if not Path(path).is_file():
        sys.exit(f"helm {major} not found at {path}: run `make tools`")
    return path


def precompile() -> None:
    """Byte-compile chartgen as a regular install does (an editable install has no .pyc files)."""
    import compileall

    compileall.compile_dir(str(ROOT / "chartgen"), quiet=1)


def chartgen_cmd() -> list[str]:
    script = Path(sys.executable).parent / "chartgen"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "chartgen"]


def time_runs(make_argv: Callable[[int], Sequence[str]], runs: int, before: Callable[[int], None] | None = None,
              ) -> list[float]:
    """Wall-clock seconds of ``runs`` runs of a command (``before`` prepares each run, untimed)."""
    times = []
    for i in range(runs):
        if before:
            before(i)
        argv = list(make_argv(i))
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def summary(label: str, times: list[float]) -> str:
    return (f"{label:<28} median {statistics.median(times) * 1000:8.1f} ms   "
            f"min {min(times) * 1000:8.1f} ms   runs {len(times)}")


def fresh_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
