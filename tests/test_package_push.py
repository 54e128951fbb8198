"""chartgen's archives go through a real OCI registry with helm 3 and helm 4 (`helm push`, `helm pull`)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartgen.archive import package_chart
from tests.servers import Registry, run_registry

pytestmark = pytest.mark.helm


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with run_registry(tmp_path_factory.mktemp("registry")) as reg:
        yield reg


def test_helm_pushes_and_pulls_chartgen_archives(helm: str, hello_chart: Path, registry: Registry,
                                                 tmp_path: Path) -> None:
    archive = Path(package_chart(hello_chart, tmp_path / "pkg").path)
    env = {**os.environ, "HELM_REGISTRY_CONFIG": str(tmp_path / "registry.json"),
           "HELM_CACHE_HOME": str(tmp_path / "cache"), "HELM_CONFIG_HOME": str(tmp_path / "config")}
    repo = f"oci://{registry.address}/{Path(helm).name}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([helm, *args], capture_output=True, text=True, env=env, timeout=60, check=False)
        assert proc.returncode == 0, f"helm {' '.join(args)}: {proc.stderr}"
        return proc

    run("push", str(archive), repo, "--plain-http")
    (tmp_path / "pulled").mkdir()
    run("pull", f"{repo}/hello-go", "--version", "0.1.0", "-d", str(tmp_path / "pulled"), "--plain-http")
    assert (tmp_path / "pulled" / "hello-go-0.1.0.tgz").read_bytes() == archive.read_bytes()
    shown = run("show", "chart", f"{repo}/hello-go", "--version", "0.1.0", "--plain-http").stdout
    assert "name: hello-go" in shown
