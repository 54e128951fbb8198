"""Semantic version bumps of Chart.yaml, edited as text.

Only the value of the top-level ``version:`` (and ``appVersion:``) line changes: comments,
key order, quoting and every other byte stay as they were. Versions are strict SemVer 2
(the ``semver`` library: no 'v' prefix, no leading zeros, three parts).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import semver
import yaml

from chartgen.archive import atomic_write_bytes
from chartgen.chart import CHART_FILE, validate_app_version
from chartgen.errors import ChartError, InvalidVersionError, UsageError

PARTS = ("major", "minor", "patch", "prerelease", "release")
DEFAULT_PRE_ID = "rc"

# The top-level `version:` line: optional quotes kept, inline comment kept, CRLF kept.
_LINE = r"(?m)^{key}:(?P<space>[ \t]*)(?P<quote>[\"']?)(?P<value>[^\"'#\s]*)(?P=quote)(?=[ \t]*(?:#[^\r\n]*)?\r?$)"
_VERSION_LINE = re.compile(_LINE.format(key="version"))
_APP_VERSION_LINE = re.compile(_LINE.format(key="appVersion"))
_PRE_ID = re.compile(r"[0-9A-Za-z-]+")


def parse_version(text: str, what: str = "version") -> semver.Version:
    """Strict SemVer 2 via the semver library; a clear error otherwise."""
    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        hint = ""
        if text[:1] in "vV":
            hint = " (drop the 'v' prefix)"
        elif re.fullmatch(r"\d+(\.\d+)?", text):
            hint = " (give all three parts, e.g. 1.2.0)"
        raise InvalidVersionError(f"{what} {text!r} is not strict SemVer 2 (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], "
                                  f"e.g. 1.2.3 or 1.2.4-rc.0){hint}") from None


def bump_version(current: semver.Version, part: str, pre_id: str = DEFAULT_PRE_ID) -> semver.Version:
    """The next version. major/minor/patch are the semver library's own bumps.

    prerelease on a release bumps the patch and starts ``-PRE_ID.0`` (1.2.3 -> 1.2.4-rc.0); on a
    prerelease with the same identifier it increments the number (rc.0 -> rc.1), with another
    identifier it starts that one (alpha.3 -> rc.0) when that sorts higher. release drops the
    prerelease (1.2.4-rc.1 -> 1.2.4). The result is always greater than ``current``.
    """
    if part == "major":
        new = current.bump_major()
    elif part == "minor":
        new = current.bump_minor()
    elif part == "patch":
        new = current.bump_patch()
    elif part == "prerelease":
        if not _PRE_ID.fullmatch(pre_id) or pre_id.isdigit():
            raise UsageError(f"--pre-id {pre_id!r} must be letters, digits and '-', not only digits (e.g. rc)")
        if current.prerelease is None:
            new = current.bump_patch().replace(prerelease=f"{pre_id}.0")
        elif current.prerelease.split(".")[0] == pre_id:
            new = current.bump_prerelease(pre_id)
        else:
            new = current.replace(prerelease=f"{pre_id}.0", build=None)
            if new <= current:
                raise InvalidVersionError(f"--pre-id {pre_id} sorts before the current prerelease {current}: use "
                                          f"--pre-id {current.prerelease.split('.')[0]} or --to")
    elif part == "release":
        if current.prerelease is None:
            raise InvalidVersionError(f"{current} is already a release version: use patch, minor or major")
        new = current.finalize_version()
    else:
        raise UsageError(f"unknown part {part!r}: use one of {', '.join(PARTS)}")
    return new


@dataclass
class BumpResult:
    """One chart's bump."""

    chart: str
    path: str
    old_version: str
    new_version: str
    old_app_version: str | None = None
    new_app_version: str | None = None
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _replace_value(text: str, pattern: re.Pattern[str], value: str, key: str, path: Path,
                   quote: str | None = None) -> str:
    matches = list(pattern.finditer(text))
    if len(matches) > 1:
        raise ChartError(f"{path}: {len(matches)} top-level '{key}:' lines; remove the duplicates")
    if not matches:
        raise ChartError(f"{path}: no top-level '{key}: VALUE' line to edit (flow style or a multi-line value?); "
                         f"edit {key} by hand once, then chartgen can bump it")
    match = matches[0]
    q = match.group("quote") if quote is None else (match.group("quote") or quote)
    # The match ends right after the closing quote (if any); comments and line ending follow untouched.
    return text[: match.start("quote")] + f"{q}{value}{q}" + text[match.end():]


def _add_app_version(text: str, value: str) -> str:
    """Insert ``appVersion: "V"`` after the version line (Chart.yaml had none)."""
    match = _VERSION_LINE.search(text)
    assert match is not None
    eol = text.find("\n", match.end())
    newline = "\r\n" if text[eol - 1:eol] == "\r" else "\n"
    if eol < 0:
        return text + f"{newline}appVersion: \"{value}\"{newline}"
    return text[: eol + 1] + f"appVersion: \"{value}\"{newline}" + text[eol + 1:]


def plan_bump(chart_dir: str | Path, part: str | None, *, to: str | None = None, pre_id: str = DEFAULT_PRE_ID,
              app_version: str | None = None, force: bool = False) -> tuple[BumpResult, str]:
    """Compute the bump of one chart: its result and the new Chart.yaml text (nothing written)."""
    path = Path(chart_dir) / CHART_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ChartError(f"{path}: no Chart.yaml here; is {chart_dir} a chart directory?") from None
    except OSError as exc:
        raise ChartError(f"{path}: cannot read: {exc.strerror}") from None
    text = raw.decode("utf-8")
    try:
        before = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ChartError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(before, dict) or "version" not in before:
        raise ChartError(f"{path}: no version field")
    old_text = str(before["version"])
    current = parse_version(old_text, f"{path}: version")
    warnings: list[str] = []
    if to is not None:
        new = parse_version(to, "--to version")
        if new <= current and not force:
            raise InvalidVersionError(f"--to {to} is not greater than the current version {current} of {path}; "
                                      "pass --force to set it anyway")
    elif part is None:
        raise UsageError("give the part to bump (major, minor, patch, prerelease, release) or --to VERSION")
    else:
        new = bump_version(current, part, pre_id)
    new_str = str(new)
    if new.build:
        warnings.append(f"{new_str} has build metadata: OCI registries cannot store '+' in tags, so helm push "
                        f"turns it into '_' ({new_str.replace('+', '_')})")
    new_text = _replace_value(text, _VERSION_LINE, new_str, "version", path)
    old_app = None if before.get("appVersion") is None else str(before["appVersion"])
    if app_version is not None:
        validate_app_version(app_version)
        if "appVersion" in before:
            new_text = _replace_value(new_text, _APP_VERSION_LINE, app_version, "appVersion", path, quote='"')
        else:
            new_text = _add_app_version(new_text, app_version)
    # Safety net: the edit must change exactly the intended values and nothing else.
    after = yaml.safe_load(new_text)
    expected = dict(before, version=new_str)
    if app_version is not None:
        expected["appVersion"] = app_version
    if after != expected:
        raise ChartError(f"{path}: could not edit the version line safely (unusual layout); edit it by hand")
    result = BumpResult(chart=str(before.get("name", "")), path=str(path), old_version=old_text, new_version=new_str,
                        old_app_version=old_app, new_app_version=app_version if app_version is not None else old_app,
                        warnings=warnings)
    return result, new_text


def bump(chart_dirs: list[str | Path], part: str | None, *, to: str | None = None, pre_id: str = DEFAULT_PRE_ID,
         app_version: str | None = None, dry_run: bool = False, force: bool = False) -> list[BumpResult]:
    """Bump the version of each chart. All charts are checked before any Chart.yaml is written."""
    if not chart_dirs:
        raise UsageError("give at least one chart directory")
    planned = [plan_bump(d, part, to=to, pre_id=pre_id, app_version=app_version, force=force) for d in chart_dirs]
    for result, new_text in planned:
        result.dry_run = dry_run
        if not dry_run:
            target = Path(result.path)
            atomic_write_bytes(target, new_text.encode("utf-8"), mode=target.stat().st_mode & 0o777)
    return [result for result, _ in planned]


def set_dependency_version(chart_dir: str | Path, dependency: str, version: str) -> str | None:
    """The Chart.yaml text with the ``version`` of dependency ``dependency`` set (None if unchanged).

    Text-preserving like the version bump: only that value changes, checked by re-parsing.
    """
    path = Path(chart_dir) / CHART_FILE
    text = path.read_text(encoding="utf-8")
    before = yaml.safe_load(text)
    deps = before.get("dependencies") if isinstance(before, dict) else None
    if not isinstance(deps, list) or not any(isinstance(d, dict) and d.get("name") == dependency for d in deps):
        raise ChartError(f"{path}: no dependency named {dependency!r}")
    lines = text.splitlines(keepends=True)
    out, in_block, indent, done = [], False, -1, False
    for line in lines:
        stripped = line.lstrip(" ")
        current = len(line) - len(stripped)
        item = re.match(r"-\s+name:\s*[\"']?([^\"'#\s]+)", stripped)
        if item:
            in_block, indent = item.group(1) == dependency, current
        elif in_block and stripped.strip() and current <= indent:
            in_block = False
        if in_block and not done:
            match = re.match(r"(\s*(?:-\s+)?version:\s*)([\"']?)([^\"'#\r\n]*?)(\2)(\s*(?:#.*)?\r?\n?)$", line)
            if match:
                line = f"{match.group(1)}{match.group(2)}{version}{match.group(2)}{match.group(5)}"
                done = True
        out.append(line)
    new_text = "".join(out)
    if new_text == text:
        return None
    after = yaml.safe_load(new_text)
    expected_deps = [dict(d, version=version) if isinstance(d, dict) and d.get("name") == dependency else d
                     for d in deps]
    if after != dict(before, dependencies=expected_deps):
        raise ChartError(f"{path}: could not set the version of dependency {dependency} safely; edit it by hand")
    return new_text
