"""Which charts changed since a git ref, and whether their versions went up (as chart-testing checks)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chartgen.chart import CHART_FILE, YAML_LOADER
from chartgen.errors import ChartgenError, UsageError
from chartgen.version import parse_version


class GitError(ChartgenError):
    """git is missing, the directory is not a repository, or a ref does not exist."""


def git(args: list[str], cwd: Path) -> str:
    """Run git and return stdout; failures become :class:`GitError` with git's own message."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    except FileNotFoundError:
        raise GitError("git not found: install git to use --since / chartgen changed") from None
    if proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise GitError(f"git {' '.join(args[:2])} failed: {message}")
    return proc.stdout


def repo_root(cwd: Path) -> Path:
    try:
        return Path(git(["rev-parse", "--show-toplevel"], cwd).strip())
    except GitError:
        raise GitError(f"{cwd.resolve()} is not inside a git repository: run chartgen changed (or --since) in a "
                       "clone of your chart repository") from None


def verify_ref(ref: str, cwd: Path) -> str:
    """The commit id of ``ref``; a clear error when it does not exist."""
    if ref.startswith("-"):
        raise UsageError(f"--since {ref!r} is not a git ref")
    try:
        return git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd).strip()
    except GitError:
        raise GitError(f"unknown git ref {ref!r}: give a branch, tag or commit (fetch it first in a shallow CI "
                       "clone, e.g. git fetch origin main)") from None


@dataclass
class ChangedChart:
    """A chart whose files differ between the ref and the working tree."""

    path: str
    name: str
    version: str
    previous_version: str | None
    renamed_from: str | None = None
    #: with check_versions: why the version is not acceptable, else None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChangedResult:
    since: str
    commit: str
    charts: list[ChangedChart] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since, "commit": self.commit, "charts": [c.to_dict() for c in self.charts],
                "problems": self.problems}


def _read_version(text: str) -> tuple[str, str]:
    doc = yaml.load(text, Loader=YAML_LOADER)
    if not isinstance(doc, dict):
        return "", ""
    return str(doc.get("name", "")), str(doc.get("version", ""))


def changed_charts(charts_dir: str | os.PathLike[str] = "charts", since: str = "HEAD", *,
                   cwd: str | os.PathLike[str] | None = None, check_versions: bool = False) -> ChangedResult:
    """The charts under ``charts_dir`` (its direct subdirectories with a Chart.yaml) whose files
    differ between ``since`` and the working tree, committed or not, untracked files included.

    Deleted charts are not listed; a renamed chart is listed under its new path. With
    ``check_versions``, a changed chart whose version is not greater than at ``since`` is a problem
    (a new chart is fine).
    """
    work = Path(cwd or ".").resolve()
    root = repo_root(work)
    commit = verify_ref(since, work)
    base = (work / charts_dir).resolve()
    try:
        rel_base = base.relative_to(root)
    except ValueError:
        raise UsageError(f"--charts-dir {charts_dir} is outside the git repository {root}") from None
    prefix = "" if str(rel_base) == "." else rel_base.as_posix() + "/"
    # Paths as git reports them, relative to the repository root; -z for names with odd characters.
    pathspec = prefix.rstrip("/") or "."
    # Only exact renames (a moved chart directory) count: git's similarity matching would pair a
    # new chart with a deleted look-alike and compare versions of unrelated charts.
    diff = git(["diff", "--name-status", "-z", "--find-renames=100%", commit, "--", pathspec], root)
    untracked = git(["ls-files", "--others", "--exclude-standard", "-z", "--", pathspec], root)
    touched: set[str] = set()
    renames: dict[str, str] = {}  # new chart dir -> old chart dir
    fields = diff.split("\0")
    i = 0
    while i < len(fields) - 1:
        status = fields[i]
        if status.startswith(("R", "C")):
            old, new = fields[i + 1], fields[i + 2]
            touched.update((old, new))
            if new.endswith("/" + CHART_FILE) and status.startswith("R"):
                renames[_chart_of(new, prefix) or ""] = _chart_of(old, prefix) or ""
            i += 3
        else:
            touched.add(fields[i + 1])
            i += 2
    touched.update(p for p in untracked.split("\0") if p)
    names = sorted({c for c in (_chart_of(p, prefix) for p in touched) if c})
    result = ChangedResult(since=since, commit=commit)
    for chart in names:
        chart_file = root / prefix / chart / CHART_FILE
        if not chart_file.is_file():
            continue  # deleted (or not a chart)
        name, version = _read_version(chart_file.read_text(encoding="utf-8"))
        old_dir = renames.get(chart, chart)
        try:
            old_text = git(["show", f"{commit}:{prefix}{old_dir}/{CHART_FILE}"], root)
            _, previous = _read_version(old_text)
        except GitError:
            previous = None  # a new chart
        path = os.path.relpath(root / prefix / chart, work)
        renamed_from = None if old_dir == chart else os.path.relpath(root / prefix / old_dir, work)
        changed = ChangedChart(path=path, name=name, version=version, previous_version=previous,
                               renamed_from=renamed_from)
        result.charts.append(changed)
        if check_versions and previous is not None:
            changed.problem = _increment_problem(path, previous, version, since)
            if changed.problem:
                result.problems.append(changed.problem)
    return result


def _chart_of(path: str, prefix: str) -> str | None:
    """The chart directory name (first component under the charts dir) of a repository path."""
    if not path.startswith(prefix):
        return None
    rest = path[len(prefix):]
    if "/" not in rest:
        return None  # a file directly in the charts dir belongs to no chart
    return rest.split("/", 1)[0]


def _increment_problem(path: str, previous: str, current: str, since: str) -> str | None:
    try:
        new = parse_version(current, f"{path}: version")
    except ChartgenError as exc:
        return exc.message
    try:
        old = parse_version(previous, "previous version")
    except ChartgenError:
        return None  # the old version was not SemVer: any valid version is progress
    if new <= old:
        return (f"{path}: changed since {since} but its version {current} is not greater than {previous}: "
                f"run chartgen bump {path} patch")
    return None
