#!/usr/bin/env python3
"""Regenerate charts/NAME from every tests/golden/NAME.answers.yaml (used by `make charts`)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from chartgen import create_chart

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    for answers_file in sorted((ROOT / "tests" / "golden").glob("*.answers.yaml")):
        answers = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
        result = create_chart(output_dir=ROOT / "charts", force=True, **answers)
        print(f"{result.path}: {len(result.files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
