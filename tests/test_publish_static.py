"""`chartgen publish` to a static HTTP repository: Apache httpd + mod_dav with FileETag Digest.

The index is updated by compare-and-swap; 16 concurrent publishers lose no entry. The same test
against a server that ignores If-Match loses entries, so the test can fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartgen.archive import package_chart
from chartgen.index import IndexFile
from tests.conftest import ROOT
from tests.servers import run_naive_put_server, run_webdav


def make_archives(hello_chart: Path, out: Path, count: int, prefix: str = "svc") -> list[Path]:
    archives = []
    for i in range(count):
        chart = out / "src" / f"{prefix}-{i:02d}"
        shutil.copytree(hello_chart, chart)
        (chart / "Chart.yaml").write_text((chart / "Chart.yaml").read_text().replace("name: hello-go",
                                                                                     f"name: {prefix}-{i:02d}"))
        archives.append(Path(package_chart(chart, out / "dist").path))
    return archives


def publish_concurrently(archives: list[Path], repo: str) -> list[subprocess.CompletedProcess[str]]:
    procs = [subprocess.Popen([sys.executable, "-m", "chartgen", "publish", str(a), "--repo", repo,
                               "--repo-kind", "static", "--init"], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for a in archives]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


@pytest.fixture(scope="module")
def webdav() -> Iterator[tuple[str, Path]]:
    with run_webdav() as server:
        yield server


def test_init_is_required_for_a_new_repository(webdav: tuple[str, Path], hello_chart: Path, tmp_path: Path,
                                               run_cli) -> None:
    url, root = webdav
    (root / "fresh").mkdir()
    shutil.chown(root / "fresh", "www-data", "www-data")
    [archive] = make_archives(hello_chart, tmp_path, 1)
    result = run_cli("publish", str(archive), "--repo", f"{url}/fresh", "--repo-kind", "static")
    assert result.exit_code == 1 and "pass --init" in result.stderr
    assert list((root / "fresh").iterdir()) == []
    result = run_cli("publish", str(archive), "--repo", f"{url}/fresh", "--init")
    assert result.exit_code == 0 and result.stdout.startswith("pushed ")
    again = run_cli("publish", str(archive), "--repo", f"{url}/fresh")
    assert again.exit_code == 0 and again.stdout.startswith("skipped ")
    changed = hello_chart.parent / "changed-hello"
    shutil.copytree(hello_chart, changed / "hello-go", dirs_exist_ok=True)


@pytest.mark.helm
def test_sixteen_concurrent_publishers_lose_nothing(webdav: tuple[str, Path], hello_chart: Path, tmp_path: Path,
                                                    helm3: str, helm4: str) -> None:
    url, root = webdav
    (root / "repo").mkdir()
    shutil.chown(root / "repo", "www-data", "www-data")
    archives = make_archives(hello_chart, tmp_path, 16)
    results = publish_concurrently(archives, f"{url}/repo")
    for result in results:
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("pushed ")
    index = IndexFile.load(root / "repo" / "index.yaml")
    assert sorted(index.entries) == [f"svc-{i:02d}" for i in range(16)]
    for helm in (helm3, helm4):
        home = tmp_path / Path(helm).name
        env = {**os.environ, "HELM_CONFIG_HOME": str(home / "c"), "HELM_CACHE_HOME": str(home / "k"),
               "HELM_DATA_HOME": str(home / "d")}

        def run(*args: str, env: dict[str, str] = env, helm: str = helm) -> str:
            proc = subprocess.run([helm, *args], capture_output=True, text=True, env=env, timeout=60, check=False)
            assert proc.returncode == 0, proc.stderr
            return proc.stdout

        run("repo", "add", "dav", f"{url}/repo")
        found = json.loads(run("search", "repo", "dav/", "-o", "json"))
        assert sorted(f["name"] for f in found) == [f"dav/svc-{i:02d}" for i in range(16)]
        (home / "pulled").mkdir()
        run("pull", "dav/svc-07", "-d", str(home / "pulled"))
        assert (home / "pulled" / "svc-07-0.1.0.tgz").read_bytes() == archives[7].read_bytes()


def test_without_conditional_put_entries_are_lost(hello_chart: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The control experiment: plain compare-and-swap against a server that ignores If-Match loses
    index updates under the same load, so the assertion of the test above can fail."""
    from chartgen.publish import publish
    from chartgen.repos.base import PushOptions
    from chartgen.repos.static import StaticPusher

    # Only If-Match, as a naive publisher would do it: no WebDAV lock, no read-back.
    monkeypatch.setattr(StaticPusher, "_supports_locking", lambda self: False)
    monkeypatch.setattr(StaticPusher, "_still_listed", lambda self, archive: True)
    root = tmp_path / "naive"
    root.mkdir()
    archives = make_archives(hello_chart, tmp_path, 16)
    barrier = threading.Barrier(16)
    outcomes: list[str] = []

    def one(archive: Path, url: str) -> None:
        barrier.wait(timeout=30)
        [result] = publish([archive], url, kind="static", options=PushOptions(init=True))
        outcomes.append(result.outcome)

    with run_naive_put_server(root, read_delay=1.5) as url:
        # Seed the index, so that every publisher's read is slow and they all read the same state.
        [seed] = make_archives(hello_chart, tmp_path / "seed", 1, prefix="seed")
        assert publish([seed], url, kind="static", options=PushOptions(init=True))[0].outcome == "pushed"
        threads = [threading.Thread(target=one, args=(a, url)) for a in archives]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert outcomes == ["pushed"] * 16  # every publisher believes it succeeded...
    index = IndexFile.load(root / "index.yaml")
    assert len(index.entries) < 16  # ...yet entries were overwritten by concurrent writers
    assert len(list(root.glob("svc-*.tgz"))) == 16
