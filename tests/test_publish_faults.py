"""Publishing through injected faults (connection resets, 503, 429 + Retry-After, slow answers) in front
of the real registry and the real Apache: publish succeeds or fails clearly, and a re-run converges."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from chartgen.archive import package_chart
from chartgen.http import HttpClient, HttpSettings
from chartgen.index import IndexFile
from tests.conftest import ROOT
from tests.faultproxy import Fault, run_fault_proxy
from tests.servers import Registry, run_registry, run_webdav


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with run_registry(tmp_path_factory.mktemp("faults")) as reg:
        yield reg


@pytest.fixture
def archive(hello_chart: Path, tmp_path: Path) -> Path:
    return Path(package_chart(hello_chart, tmp_path / "dist").path)


def publish(archive: Path, repo: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chartgen", "publish", str(archive), "--repo", repo, *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)


def manifest_status(registry: Registry, repo: str) -> int:
    return requests.get(f"http://{registry.address}/v2/{repo}/hello-go/manifests/0.1.0", timeout=10,
                        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).status_code


@pytest.mark.parametrize(("name", "fault"), [
    ("reset-upload", Fault("POST", r"/blobs/uploads/", "reset")),
    ("reset-manifest", Fault("PUT", r"/manifests/", "reset")),
    ("503-then-ok", Fault("PUT", r"/manifests/", "status", times=2, status=503)),
    ("429-retry-after", Fault("HEAD", r"/blobs/", "status", status=429, headers={"Retry-After": "1"})),
    ("slow-read", Fault("GET", r"/manifests/", "slow", delay=3.0)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_transient_faults_are_retried(registry: Registry, archive: Path, name: str, fault: Fault) -> None:
    with run_fault_proxy(f"http://{registry.address}", [fault]) as proxy:
        port = proxy.url.rsplit(":", 1)[1]
        result = publish(archive, f"oci://127.0.0.1:{port}/{name}", "--plain-http", "--timeout", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("pushed ")
    assert fault.hits >= 1, "the fault was never injected"
    assert manifest_status(registry, name) == 200


def test_persistent_failure_is_clear_and_a_rerun_converges(registry: Registry, archive: Path) -> None:
    fault = Fault("PUT", r"/manifests/", "status", times=-1, status=500)
    with run_fault_proxy(f"http://{registry.address}", [fault]) as proxy:
        port = proxy.url.rsplit(":", 1)[1]
        failed = publish(archive, f"oci://127.0.0.1:{port}/stubborn", "--plain-http")
    assert failed.returncode == 1
    assert "failed with HTTP 500" in failed.stderr and "re-run" in failed.stderr
    assert "Traceback" not in failed.stderr and failed.stdout.startswith("failed ")
    assert manifest_status(registry, "stubborn") == 404  # nothing half-published is visible as a chart
    again = publish(archive, f"oci://{registry.address}/stubborn", "--plain-http")
    assert again.returncode == 0 and again.stdout.startswith("pushed ")
    assert publish(archive, f"oci://{registry.address}/stubborn", "--plain-http").stdout.startswith("skipped ")


def test_retry_after_is_honoured(registry: Registry) -> None:
    delays: list[float] = []
    fault = Fault("GET", r"^/v2/$", "status", times=1, status=429, headers={"Retry-After": "2"})
    with run_fault_proxy(f"http://{registry.address}", [fault]) as proxy:
        client = HttpClient(HttpSettings(retries=3), sleep=delays.append)
        response = client.request("GET", f"{proxy.url}/v2/", idempotent=True)
    assert response.status_code == 200
    assert delays == [2.0]


def test_static_repository_faults(hello_chart: Path, archive: Path, tmp_path: Path) -> None:
    with run_webdav() as (url, root):
        first = publish(archive, url, "--repo-kind", "static", "--init")
        assert first.returncode == 0, first.stderr
        index_before = (root / "index.yaml").read_bytes()
        chart = tmp_path / "next" / "hello-go"
        import shutil

        shutil.copytree(hello_chart, chart)
        (chart / "Chart.yaml").write_text((chart / "Chart.yaml").read_text().replace("version: 0.1.0",
                                                                                     "version: 0.2.0"))
        second = Path(package_chart(chart, tmp_path / "next-dist").path)
        # A failing GET of the existing index aborts: no fresh index is ever started over it.
        broken = Fault("GET", r"index\.yaml", "status", times=-1, status=503)
        with run_fault_proxy(url, [broken]) as proxy:
            failed = publish(second, proxy.url, "--repo-kind", "static", "--init")
        assert failed.returncode == 1 and "HTTP 503" in failed.stderr
        assert (root / "index.yaml").read_bytes() == index_before
        # Resets and 503s on the index write are retried; the CAS keeps it correct.
        flaky = [Fault("PUT", r"index\.yaml", "reset"), Fault("LOCK", r"index\.yaml", "status", status=503)]
        with run_fault_proxy(url, flaky) as proxy:
            ok = publish(second, proxy.url, "--repo-kind", "static")
        assert ok.returncode == 0, ok.stderr
        assert sum(f.hits for f in flaky) >= 1
        index = IndexFile.load(root / "index.yaml")
        assert [e.version for e in index.entries["hello-go"]] == ["0.2.0", "0.1.0"]
