"""`chartgen changed` and the version-increment check on real temporary git repositories."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from chartgen.changes import GitError, changed_charts
from chartgen.version import bump


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent)}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def add_chart(repo: Path, name: str, version: str = "1.0.0") -> Path:
    chart = repo / "charts" / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    (chart / "values.yaml").write_text("a: 1\n")
    (chart / "templates" / "cm.yaml").write_text("# cm\n")
    return chart


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for name in ("alpha", "beta", "gamma", "delta"):
        add_chart(root, name)
    (root / "README.md").write_text("monorepo\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "tag", "base")
    monkeypatch.chdir(root)
    return root


def paths(result) -> list[str]:
    return [c.path for c in result.charts]


def test_nothing_changed(repo: Path) -> None:
    assert paths(changed_charts(since="base")) == []


def test_added_modified_renamed_deleted_and_outside(repo: Path) -> None:
    add_chart(repo, "epsilon")                                        # added (committed below)
    (repo / "charts" / "alpha" / "values.yaml").write_text("a: 2\n")  # modified
    git(repo, "mv", "charts/beta", "charts/beta2")                    # renamed
    git(repo, "rm", "-q", "-r", "charts/gamma")                       # deleted
    (repo / "README.md").write_text("changed outside any chart\n")
    (repo / "charts" / "NOTES.md").write_text("a file directly in charts/\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "changes")
    result = changed_charts(since="base")
    assert paths(result) == ["charts/alpha", "charts/beta2", "charts/epsilon"]
    by_path = {c.path: c for c in result.charts}
    assert by_path["charts/beta2"].renamed_from == "charts/beta"
    assert by_path["charts/beta2"].previous_version == "1.0.0"
    assert by_path["charts/epsilon"].previous_version is None


def test_uncommitted_and_untracked_changes_count(repo: Path) -> None:
    (repo / "charts" / "delta" / "templates" / "cm.yaml").write_text("# edited, not committed\n")
    (repo / "charts" / "alpha" / "templates" / "new.yaml").write_text("# untracked\n")
    (repo / "charts" / "beta" / "ignored.tmp").write_text("x")
    (repo / ".gitignore").write_text("*.tmp\n")
    assert paths(changed_charts(since="HEAD")) == ["charts/alpha", "charts/delta"]


def test_version_increment_check(repo: Path) -> None:
    (repo / "charts" / "alpha" / "values.yaml").write_text("a: 2\n")
    (repo / "charts" / "beta" / "values.yaml").write_text("a: 3\n")
    bump([repo / "charts" / "beta"], "patch")
    add_chart(repo, "fresh", "0.1.0")
    result = changed_charts(since="base", check_versions=True)
    assert paths(result) == ["charts/alpha", "charts/beta", "charts/fresh"]
    [problem] = result.problems
    assert "charts/alpha" in problem and "not greater than 1.0.0" in problem and "chartgen bump" in problem
    (repo / "charts" / "alpha" / "Chart.yaml").write_text("apiVersion: v2\nname: alpha\nversion: 0.9.0\n")
    assert "0.9.0 is not greater" in changed_charts(since="base", check_versions=True).problems[0]
    bump([repo / "charts" / "alpha"], None, to="2.0.0")
    assert changed_charts(since="base", check_versions=True).problems == []


def test_cli(repo: Path, run_cli) -> None:
    (repo / "charts" / "alpha" / "values.yaml").write_text("a: 2\n")
    result = run_cli("changed", "--since", "base")
    assert result.exit_code == 0 and result.stdout == "charts/alpha\n"
    result = run_cli("changed", "--since", "base", "--check-versions")
    assert result.exit_code == 1 and "not greater" in result.stderr
    doc = json.loads(run_cli("-o", "json", "changed", "--since", "base").stdout)
    assert doc["since"] == "base" and len(doc["commit"]) == 40
    assert doc["charts"] == [{"path": "charts/alpha", "name": "alpha", "version": "1.0.0",
                              "previous_version": "1.0.0", "renamed_from": None, "problem": None}]
    bad = run_cli("changed", "--since", "no-such-ref")
    assert bad.exit_code == 1 and "unknown git ref 'no-such-ref'" in bad.stderr
    assert run_cli("changed", "--since", "--output").exit_code == 2


def test_from_a_subdirectory_and_other_charts_dir(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "charts" / "gamma" / "values.yaml").write_text("a: 9\n")
    monkeypatch.chdir(repo / "charts")
    assert paths(changed_charts(".", since="base")) == ["gamma"]
    with pytest.raises(Exception, match="outside the git repository"):
        changed_charts("/", since="base")


def test_outside_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    with pytest.raises(GitError, match="not inside a git repository"):
        changed_charts(since="HEAD")
    result = run_cli("changed")
    assert result.exit_code == 1 and result.stderr.startswith("Error: ") and "git repository" in result.stderr
