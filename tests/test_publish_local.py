"""`chartgen publish` to a local directory repository (file://DIR), the embedded default of `make demo`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chartgen.archive import package_chart
from chartgen.index import IndexFile
from chartgen.publish import publish
from chartgen.repos.base import PushOptions
from tests.conftest import ROOT
from tests.httpserver import serve_directory


def make_archive(hello_chart: Path, out: Path, name: str = "hello-go", version: str = "0.1.0", extra: str = "") -> Path:
    chart = out / "src" / name
    shutil.copytree(hello_chart, chart, dirs_exist_ok=True)
    text = (chart / "Chart.yaml").read_text().replace("name: hello-go", f"name: {name}")
    (chart / "Chart.yaml").write_text(text.replace("version: 0.1.0", f"version: {version}"))
    if extra:
        (chart / "values.yaml").write_text((chart / "values.yaml").read_text() + extra)
    return Path(package_chart(chart, out / "dist").path)


def test_publish_skip_refuse_force(hello_chart: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    archive = make_archive(hello_chart, tmp_path)
    [first] = publish([archive], f"file://{repo}")
    assert first.outcome == "pushed" and (repo / "hello-go-0.1.0.tgz").read_bytes() == archive.read_bytes()
    entry = IndexFile.load(repo / "index.yaml").get("hello-go", "0.1.0")
    assert entry is not None and entry.digest == first.digest and entry.urls == ["hello-go-0.1.0.tgz"]
    created = entry.created
    assert publish([archive], f"file://{repo}")[0].outcome == "skipped"
    changed = make_archive(hello_chart, tmp_path / "other", extra="# changed\n")
    [refused] = publish([changed], f"file://{repo}")
    assert refused.outcome == "refused" and "--force" in refused.message
    assert (repo / "hello-go-0.1.0.tgz").read_bytes() == archive.read_bytes()
    assert publish([changed], f"file://{repo}", options=PushOptions(skip_existing=True))[0].outcome == "skipped"
    assert publish([changed], f"file://{repo}", options=PushOptions(force=True))[0].outcome == "pushed"
    assert (repo / "hello-go-0.1.0.tgz").read_bytes() == changed.read_bytes()
    forced = IndexFile.load(repo / "index.yaml").get("hello-go", "0.1.0")
    assert forced is not None and forced.digest != entry.digest and forced.created != created


def test_half_done_publish_converges(hello_chart: Path, tmp_path: Path) -> None:
    """An archive copied by a run that died before the index update is indexed by the re-run."""
    repo = tmp_path / "repo"
    repo.mkdir()
    archive = make_archive(hello_chart, tmp_path)
    shutil.copy(archive, repo / archive.name)
    [result] = publish([archive], f"file://{repo}")
    assert result.outcome == "skipped" and "index entry is added" in result.message
    assert IndexFile.load(repo / "index.yaml").get("hello-go", "0.1.0") is not None


def test_concurrent_publishers_lose_no_entry(hello_chart: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    archives = [make_archive(hello_chart, tmp_path / f"c{i}", name=f"chart-{i:02d}") for i in range(16)]
    procs = [subprocess.Popen([sys.executable, "-m", "chartgen", "-q", "publish", str(a), "--repo", f"file://{repo}"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for a in archives]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    index = IndexFile.load(repo / "index.yaml")
    assert sorted(index.entries) == [f"chart-{i:02d}" for i in range(16)]


def test_bad_archive_publishes_nothing(hello_chart: Path, tmp_path: Path, run_cli) -> None:
    good = make_archive(hello_chart, tmp_path)
    bad = tmp_path / "bad-1.0.0.tgz"
    bad.write_bytes(b"not a tarball")
    result = run_cli("publish", str(good), str(bad), "--repo", f"file://{tmp_path / 'repo'}")
    assert result.exit_code == 1 and "not a gzip file" in result.stderr
    assert not (tmp_path / "repo").exists()


@pytest.mark.helm
def test_helm_installs_from_the_local_repository(helm: str, hello_chart: Path, tmp_path: Path, run_cli) -> None:
    repo = tmp_path / "repo"
    archive = make_archive(hello_chart, tmp_path)
    result = run_cli("-o", "json", "publish", str(archive), "--repo", f"file://{repo}")
    assert result.exit_code == 0 and json.loads(result.stdout)["results"][0]["outcome"] == "pushed"
    env = {**os.environ, "HELM_CONFIG_HOME": str(tmp_path / "h" / "c"), "HELM_CACHE_HOME": str(tmp_path / "h" / "k"),
           "HELM_DATA_HOME": str(tmp_path / "h" / "d")}
    with serve_directory(repo) as url:
        for args in (["repo", "add", "local", url], ["show", "chart", "local/hello-go"],
                     ["template", "rel", "local/hello-go", "--version", "0.1.0"]):
            proc = subprocess.run([helm, *args], capture_output=True, text=True, env=env, timeout=60, check=False)
            assert proc.returncode == 0, proc.stderr
    assert "kind: Deployment" in proc.stdout
