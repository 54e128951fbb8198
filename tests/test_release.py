"""`chartgen release` on a generated monorepo in a temporary git repository."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from chartgen import create_chart
from chartgen.config import load
from chartgen.index import IndexFile
from tests.faultproxy import Fault, run_fault_proxy
from tests.servers import Registry, run_registry

pytestmark = pytest.mark.helm
CHANGED = ["svc-03", "svc-17", "svc-29"]


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "HOME": str(repo.parent)}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A monorepo of 30 generated charts, committed and tagged `base`."""
    repo = tmp_path_factory.mktemp("template") / "mono"
    for i in range(30):
        create_chart(f"svc-{i:02d}", repo / "charts")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "tag", "base")
    return repo


@pytest.fixture
def mono(template_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "mono"
    shutil.copytree(template_repo, repo)
    for name in CHANGED:
        values = repo / "charts" / name / "values.yaml"
        values.write_text(values.read_text() + "# changed for the release\n")
    monkeypatch.chdir(repo)
    return repo


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with run_registry(tmp_path_factory.mktemp("release-registry")) as reg:
        yield reg


def release(*args: str) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "chartgen", "-o", "json", "release", *args], capture_output=True,
                          text=True, timeout=600, check=False, cwd=Path.cwd())
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def versions(repo: Path, name: str) -> str:
    return yaml.safe_load((repo / "charts" / name / "Chart.yaml").read_text())["version"]


def test_exactly_the_changed_charts_are_bumped_and_published(mono: Path, helm4: str) -> None:
    target = f"file://{mono}/published"
    code, doc = release("--since", "base", "--repo", target, "--helm", helm4)
    assert code == 0, doc
    assert [c["name"] for c in doc["charts"]] == CHANGED
    assert all(c["bumped"] and c["old_version"] == "0.1.0" and c["new_version"] == "0.1.1" for c in doc["charts"])
    assert all(c["lint"] == "passed" and c["outcome"] == "pushed" for c in doc["charts"])
    assert [versions(mono, n) for n in CHANGED] == ["0.1.1"] * 3 and versions(mono, "svc-00") == "0.1.0"
    index = IndexFile.load(mono / "published" / "index.yaml")
    assert sorted(index.entries) == CHANGED
    # A re-run publishes nothing new and bumps nothing again.
    code, again = release("--since", "base", "--repo", target, "--helm", helm4)
    assert code == 0
    assert [(c["bumped"], c["outcome"]) for c in again["charts"]] == [(False, "skipped")] * 3
    assert [versions(mono, n) for n in CHANGED] == ["0.1.1"] * 3


def test_release_to_the_real_registry(mono: Path, helm4: str, registry: Registry) -> None:
    repo = f"oci://{registry.address}/{mono.parent.name}"
    code, doc = release("--since", "base", "--repo", repo, "--plain-http", "--helm", helm4)
    assert code == 0, doc
    assert [c["outcome"] for c in doc["charts"]] == ["pushed"] * 3
    for name in CHANGED:
        response = requests.get(f"http://{registry.address}/v2/{mono.parent.name}/{name}/manifests/0.1.1",
                                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}, timeout=10)
        assert response.status_code == 200
    code, again = release("--since", "base", "--repo", repo, "--plain-http", "--helm", helm4)
    assert code == 0 and [c["outcome"] for c in again["charts"]] == ["skipped"] * 3


def test_a_lint_failure_blocks_only_that_chart(mono: Path, helm4: str) -> None:
    broken = mono / "charts" / "svc-17" / "values.yaml"
    broken.write_text(broken.read_text().replace("  port: 80\n", "  port: 99999\n"))
    code, doc = release("--since", "base", "--repo", f"file://{mono}/published", "--helm", helm4)
    assert code == 1
    by_name = {c["name"]: c for c in doc["charts"]}
    assert by_name["svc-17"]["lint"] == "failed" and by_name["svc-17"]["outcome"] == "not published"
    assert "lint:" in by_name["svc-17"]["message"]
    assert by_name["svc-03"]["outcome"] == by_name["svc-29"]["outcome"] == "pushed"
    assert sorted(IndexFile.load(mono / "published" / "index.yaml").entries) == ["svc-03", "svc-29"]


def test_interrupted_release_converges(mono: Path, helm4: str, registry: Registry) -> None:
    path = f"interrupted-{mono.parent.name}"
    fault = Fault("PUT", r"/svc-17/manifests/", "status", times=-1, status=500)
    with run_fault_proxy(f"http://{registry.address}", [fault]) as proxy:
        port = proxy.url.rsplit(":", 1)[1]
        code, doc = release("--since", "base", "--repo", f"oci://127.0.0.1:{port}/{path}", "--plain-http",
                            "--helm", helm4)
    assert code == 1
    assert {c["name"]: c["outcome"] for c in doc["charts"]} == {"svc-03": "pushed", "svc-17": "failed",
                                                                "svc-29": "pushed"}
    code, doc = release("--since", "base", "--repo", f"oci://{registry.address}/{path}", "--plain-http",
                        "--helm", helm4)
    assert code == 0
    assert {c["name"]: c["outcome"] for c in doc["charts"]} == {"svc-03": "skipped", "svc-17": "pushed",
                                                                "svc-29": "skipped"}
    assert all(not c["bumped"] for c in doc["charts"])  # the first run's bumps are kept, not repeated


def test_dependencies_go_first_and_get_the_new_version(mono: Path, helm4: str) -> None:
    app = mono / "charts" / "svc-01" / "Chart.yaml"
    app.write_text(app.read_text() + "dependencies:\n  - name: svc-03\n    version: 0.1.0\n"
                   "    repository: file://../svc-03\n")
    git(mono, "add", "-A")
    git(mono, "commit", "-q", "-m", "svc-01 uses svc-03")
    git(mono, "tag", "-f", "base")
    values = mono / "charts" / "svc-03" / "values.yaml"
    values.write_text(values.read_text() + "# changed again\n")
    code, doc = release("--since", "base", "--repo", f"file://{mono}/published", "--helm", helm4, "--git-commit",
                        "--git-tag")
    assert code == 0, doc
    assert [c["name"] for c in doc["charts"]] == ["svc-03", "svc-01"]
    assert yaml.safe_load(app.read_text())["dependencies"][0]["version"] == versions(mono, "svc-03") == "0.1.1"
    assert versions(mono, "svc-01") == "0.1.1"
    from chartgen.archive import read_chart_archive

    archive = read_chart_archive(mono / "dist" / "svc-01-0.1.1.tgz")
    assert "charts/svc-03-0.1.1.tgz" in archive.files
    assert git(mono, "status", "--porcelain", "--", "charts/svc-01/Chart.yaml", "charts/svc-03/Chart.yaml") == ""
    assert set(git(mono, "tag", "--list").split()) >= {"svc-01-0.1.1", "svc-03-0.1.1"}
    assert doc["committed"] and doc["tags"] == ["svc-03-0.1.1", "svc-01-0.1.1"]


def test_dry_run_writes_and_sends_nothing(mono: Path, helm4: str) -> None:
    before = git(mono, "status", "--porcelain")
    code, doc = release("--since", "base", "--repo", f"file://{mono}/published", "--helm", helm4, "--dry-run")
    assert code == 0 and doc["dry_run"]
    assert [(c["new_version"], c["outcome"]) for c in doc["charts"]] == [("0.1.1", "planned")] * 3
    assert git(mono, "status", "--porcelain") == before
    assert not (mono / "published").exists() and not (mono / "dist").exists()


def test_settings_precedence(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.chartgen]\nrepo = "file://from-pyproject"\n'
                                             'charts_dir = "deploy/charts"\nskip_rules = ["probes"]\n')
    config = load({}, directory=tmp_path, env={})
    assert (config.repo, config.charts_dir, config.skip_rules) == ("file://from-pyproject", "deploy/charts",
                                                                   ["probes"])
    assert config.sources["repo"] == "pyproject.toml [tool.chartgen]"
    config = load({}, directory=tmp_path, env={"CHARTGEN_REPO": "file://from-env", "CHARTGEN_JOBS": "3"})
    assert (config.repo, config.jobs) == ("file://from-env", 3)
    config = load({"repo": "file://from-flag"}, directory=tmp_path, env={"CHARTGEN_REPO": "file://from-env"})
    assert config.repo == "file://from-flag" and config.sources["repo"] == "flag"
    yaml_dir = tmp_path / "y"
    yaml_dir.mkdir()
    (yaml_dir / "chartgen.yaml").write_text("release:\n  repo: oci://registry.example.com/charts\n  bump: minor\n")
    config = load({}, directory=yaml_dir, env={})
    assert (config.repo, config.bump) == ("oci://registry.example.com/charts", "minor")
    (yaml_dir / "chartgen.yaml").write_text("release:\n  repository: x\n")
    with pytest.raises(Exception, match="unknown setting 'repository'"):
        load({}, directory=yaml_dir, env={})


def test_repo_from_pyproject_and_missing_repo(mono: Path, helm4: str, run_cli) -> None:
    assert run_cli("release", "--since", "base").exit_code == 2
    (mono / "pyproject.toml").write_text(f'[tool.chartgen]\nrepo = "file://{mono}/from-config"\n')
    code, doc = release("--since", "base", "--helm", helm4)
    assert code == 0 and doc["repo"] == f"file://{mono}/from-config"
    assert sorted(IndexFile.load(mono / "from-config" / "index.yaml").entries) == CHANGED


def test_without_since_every_unpublished_chart_goes_out(template_repo: Path, tmp_path: Path, helm4: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "small"
    (repo / "charts").mkdir(parents=True)
    for name in ("svc-00", "svc-01"):
        shutil.copytree(template_repo / "charts" / name, repo / "charts" / name)
    monkeypatch.chdir(repo)
    code, doc = release("--repo", f"file://{repo}/pub", "--helm", helm4)
    assert code == 0 and [(c["bumped"], c["outcome"]) for c in doc["charts"]] == [(False, "pushed")] * 2
    code, doc = release("--repo", f"file://{repo}/pub", "--helm", helm4)
    assert [c["outcome"] for c in doc["charts"]] == ["skipped"] * 2


def test_ci_examples_use_real_commands() -> None:
    from chartgen.cli import cli

    root = Path(__file__).resolve().parent.parent / "docs" / "ci"
    release_options = {opt for param in cli.commands["release"].params for opt in param.opts}
    for path in root.glob("*.yml"):
        text = path.read_text()
        assert yaml.safe_load(text), path
        for line in re.findall(r"chartgen (?:-\S+ \S+ )?release([^\n]*)", text):
            for option in re.findall(r"(--[a-z-]+)", line):
                assert option in release_options, f"{path.name}: chartgen release has no {option}"
