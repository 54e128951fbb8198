"""``chartgen release``: changed charts -> bump -> lint -> package -> publish, in dependency order.

Policy (documented in the README): a chart that fails lint is neither packaged nor published, nor
is any chart that depends on it; every other chart still goes out, and the command exits 1.
Publishing is idempotent, so a release that stopped part-way converges when it is run again:
what was published is skipped, versions that already went up since REF are not bumped again.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chartgen.archive import atomic_write_bytes, build_archive, chart_files, package_charts, source_date_epoch
from chartgen.chart import CHART_FILE, CHARTS_DIR, Metadata
from chartgen.config import ReleaseConfig
from chartgen.errors import ChartgenError, UsageError
from chartgen.repos.base import FAILED, REFUSED, PushOptions

NOT_PUBLISHED = "not published"
PLANNED = "planned"


@dataclass
class ReleaseItem:
    """One chart of the release."""

    chart: str
    name: str
    old_version: str
    new_version: str
    bumped: bool = False
    lint: str = "not run"  # passed | failed | blocked | not run
    lint_errors: int = 0
    lint_warnings: int = 0
    archive: str = ""
    digest: str = ""
    outcome: str = NOT_PUBLISHED
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReleaseResult:
    """Every chart of the release and what happened to it."""

    items: list[ReleaseItem]
    repo: str
    since: str | None
    dry_run: bool
    committed: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(i.lint != "failed" and i.lint != "blocked" and i.outcome not in (REFUSED, FAILED)
                   for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"repo": self.repo, "since": self.since, "dry_run": self.dry_run, "passed": self.passed,
                "committed": self.committed, "tags": self.tags, "charts": [i.to_dict() for i in self.items]}


@dataclass
class _Chart:
    path: Path
    meta: Metadata
    local_deps: list[str]  # names of charts of the monorepo this one depends on (file://)


def _discover(charts_dir: Path) -> dict[str, _Chart]:
    if not charts_dir.is_dir():
        raise UsageError(f"--charts-dir {charts_dir}: no such directory")
    charts: dict[str, _Chart] = {}
    by_path: dict[Path, str] = {}
    for path in sorted(p for p in charts_dir.iterdir() if (p / CHART_FILE).is_file()):
        meta = Metadata.load(path)
        if meta.name in charts:
            raise ChartgenError(f"two charts are named {meta.name}: {charts[meta.name].path} and {path}")
        charts[meta.name] = _Chart(path, meta, [])
        by_path[path.resolve()] = meta.name
    for chart in charts.values():
        for dep in chart.meta.raw.get("dependencies") or []:
            repository = str((dep or {}).get("repository") or "")
            if repository.startswith("file://"):
                target = (chart.path / repository[len("file://"):]).resolve()
                if target in by_path:
                    chart.local_deps.append(by_path[target])
    return charts


def _order(names: set[str], charts: dict[str, _Chart]) -> list[str]:
    """Dependencies before dependents (Kahn); a cycle is an error."""
    pending = {n: {d for d in charts[n].local_deps if d in names} for n in names}
    ordered: list[str] = []
    while pending:
        ready = sorted(n for n, deps in pending.items() if not deps)
        if not ready:
            raise ChartgenError(f"the charts {', '.join(sorted(pending))} depend on each other in a cycle")
        for n in ready:
            ordered.append(n)
            del pending[n]
        for deps in pending.values():
            deps.difference_update(ready)
    return ordered


def _git(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise ChartgenError(f"git {' '.join(args[:2])} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return proc.stdout


def release(config: ReleaseConfig, *, options: PushOptions | None = None, dry_run: bool = False,
            git_commit: bool = False, git_tag: bool = False, helm: str | None = None,
            progress: Callable[[str], None] | None = None) -> ReleaseResult:
    """Release the changed charts of ``config.charts_dir`` to ``config.repo``."""
    from chartgen.changes import changed_charts
    from chartgen.lint import ERROR, WARNING, lint
    from chartgen.publish import publish
    from chartgen.version import PARTS, plan_bump, set_dependency_version

    if not config.repo:
        raise UsageError("no repository: pass --repo URL, set CHARTGEN_REPO, or `repo` in [tool.chartgen]")
    if config.bump not in (*PARTS, "none"):
        raise UsageError(f"--bump {config.bump!r}: use patch, minor, major, prerelease, release or none")
    say = progress or (lambda _message: None)
    options = options or PushOptions()
    charts_dir = Path(config.charts_dir)
    charts = _discover(charts_dir)

    # 1. What to release: the charts changed since REF (or all), plus whatever depends on them.
    previous: dict[str, str | None] = {}
    if config.since:
        changed = changed_charts(charts_dir, config.since)
        by_path = {c.path.resolve(): c for c in charts.values()}
        selected = set()
        for item in changed.charts:
            chart = by_path.get(Path(item.path).resolve())
            if chart is not None:
                selected.add(chart.meta.name)
                previous[chart.meta.name] = item.previous_version
    else:
        selected = set(charts)
    grew = True
    while grew:  # dependents of released charts are released too (their dependency version changes)
        more = {n for n, c in charts.items() if n not in selected and any(d in selected for d in c.local_deps)}
        grew = bool(more)
        for name in more:
            selected.add(name)
            previous.setdefault(name, charts[name].meta.version)
    order = _order(selected, charts)
    items = {n: ReleaseItem(str(charts[n].path), n, charts[n].meta.version, charts[n].meta.version) for n in order}

    # 2. Versions, in dependency order: propagate new dependency versions, then bump.
    bumped_files: list[Path] = []
    for name in order:
        chart, item = charts[name], items[name]
        for dep in chart.local_deps:
            if dep in items and items[dep].new_version != items[dep].old_version:
                text = set_dependency_version(chart.path, dep, items[dep].new_version)
                if text is not None and not dry_run:
                    atomic_write_bytes(chart.path / CHART_FILE, text.encode("utf-8"))
                    bumped_files.append(chart.path / CHART_FILE)
        prev = previous.get(name)
        already_up = prev is None or _greater(chart.meta.version, prev)
        if config.since and config.bump != "none" and not already_up:
            result, text = plan_bump(chart.path, config.bump)
            item.new_version, item.bumped = result.new_version, True
            if not dry_run:
                atomic_write_bytes(chart.path / CHART_FILE, text.encode("utf-8"))
                bumped_files.append(chart.path / CHART_FILE)
        say(f"{name}: {item.old_version} -> {item.new_version}" if item.bumped else f"{name}: {item.new_version}")

    # 3. Lint them all, in parallel (monorepo dependencies as the archives they will be packaged with).
    vendored = _vendored_deps(order, charts)
    linted = lint([charts[n].path for n in order], strict=config.strict, kube_versions=config.kube_versions,
                  skip_rules=config.skip_rules, helm=helm, jobs=config.jobs, vendored=vendored)
    for name, found in zip(order, linted.charts, strict=True):
        item = items[name]
        item.lint_errors, item.lint_warnings = found.count(ERROR), found.count(WARNING)
        failed = item.lint_errors or (config.strict and item.lint_warnings)
        item.lint = "failed" if failed else "passed"
        if failed:
            first = next((m for m in found.messages if m.severity in (ERROR, WARNING)), None)
            item.message = f"lint: {first.rule}: {first.message}" if first else "lint failed"
    for name in order:  # a chart whose dependency failed cannot go out either
        if items[name].lint == "passed" and any(items[d].lint in ("failed", "blocked")
                                                for d in charts[name].local_deps if d in items):
            items[name].lint, items[name].message = "blocked", "a dependency of this chart failed lint"
    say(f"linted {len(order)} chart(s)")
    if dry_run:
        for item in items.values():
            item.outcome = PLANNED if item.lint == "passed" else NOT_PUBLISHED
        return ReleaseResult([items[n] for n in order], config.repo, config.since, dry_run)

    # 4. Package (local dependencies vendored as archives) and publish, charts in parallel.
    ready = [n for n in order if items[n].lint == "passed"]
    archives = package_charts([charts[n].path for n in ready], config.package_dir, extra_files=vendored)
    for name, archive in zip(ready, archives, strict=True):
        items[name].archive, items[name].digest = archive.path, archive.digest

    if ready:
        outcomes = publish([items[n].archive for n in ready], config.repo, kind=config.repo_kind, options=options,
                           jobs=config.jobs or os.cpu_count() or 1)
        for name, outcome in zip(ready, outcomes, strict=True):
            items[name].outcome, items[name].message = outcome.outcome, outcome.message
            say(f"{name} {items[name].new_version}: {outcome.outcome}")

    result = ReleaseResult([items[n] for n in order], config.repo, config.since, dry_run)
    # 5. Optionally record it in git (never pushed).
    if git_commit and bumped_files:
        root = Path(_git(["rev-parse", "--show-toplevel"], charts_dir).strip())
        _git(["add", "--", *sorted({str(p.resolve()) for p in bumped_files})], root)
        summary = ", ".join(f"{i.name} {i.new_version}" for i in result.items if i.bumped)
        _git(["commit", "-q", "-m", f"Release {summary or 'charts'}", "--", *sorted({str(p.resolve())
                                                                                       for p in bumped_files})], root)
        result.committed = _git(["rev-parse", "HEAD"], root).strip()
    if git_tag:
        existing = set(_git(["tag", "--list"], charts_dir).split())
        for item in result.items:
            tag = f"{item.name}-{item.new_version}"
            if item.outcome in ("pushed", "skipped") and tag not in existing:
                _git(["tag", tag], charts_dir)
                result.tags.append(tag)
    return result


def _greater(version: str, previous: str) -> bool:
    import semver

    try:
        return semver.Version.parse(version) > semver.Version.parse(previous)
    except ValueError:
        return False


def _vendored_deps(names: list[str], charts: dict[str, _Chart]) -> dict[str, dict[str, bytes]]:
    """For each chart, its monorepo (file://) dependencies as archives under charts/ (helm dependency build)."""
    out: dict[str, dict[str, bytes]] = {}
    cache: dict[str, tuple[str, bytes]] = {}
    for name in names:
        files: dict[str, bytes] = {}
        for dep in charts[name].local_deps:
            if dep not in cache:
                dep_chart = charts[dep]
                meta = Metadata.load(dep_chart.path)  # re-read: it may just have been bumped
                cache[dep] = (f"{CHARTS_DIR}/{meta.name}-{meta.version}.tgz",
                              build_archive(meta.name, chart_files(dep_chart.path), source_date_epoch()))
            rel, data = cache[dep]
            files[rel] = data
        if files:
            out[str(charts[name].path)] = files
    return out
