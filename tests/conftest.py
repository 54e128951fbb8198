"""Shared fixtures: the real helm binaries, a generated chart, and an in-process CLI runner."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from chartgen import create_chart
from chartgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "bin"


def _helm(major: int) -> str:
    path = os.environ.get(f"CHARTGEN_TEST_HELM{major}") or str(TOOLS / f"helm{major}")
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        # Not a skip: `make test` installs helm, so a missing binary is a broken setup.
        pytest.fail(f"helm {major} not found at {path}: run `make tools` (scripts/install_helm.py)")
    return path


@pytest.fixture(scope="session", params=[3, 4], ids=["helm3", "helm4"])
def helm(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once with real helm 3 and once with real helm 4."""
    return _helm(request.param)


@pytest.fixture(scope="session")
def helm3() -> str:
    return _helm(3)


@pytest.fixture(scope="session")
def helm4() -> str:
    return _helm(4)


@pytest.fixture(scope="session")
def hello_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A chart made by create_chart, shared read-only by the tests of a session."""
    out = tmp_path_factory.mktemp("charts")
    return Path(create_chart("hello-go", out, image_repository="registry.example.com/acme/hello-go",
                             app_version="1.0.0").path)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run the real entry point in-process; returns exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def tree(path: Path) -> list[str]:
    """All paths under ``path`` (relative, sorted), hidden ones included."""
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))


@pytest.fixture
def copy_chart(hello_chart: Path, tmp_path: Path):
    def copy(name: str = "hello-go") -> Path:
        target = tmp_path / name
        shutil.copytree(hello_chart, target)
        return target

    return copy
