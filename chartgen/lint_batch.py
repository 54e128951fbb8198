"""Batched helm runs for ``chartgen lint``: many (chart, profile) pairs per helm process.

helm spends ~50 ms starting up (Kubernetes client initialisation) for every call, which dominates
linting small charts. So compatible charts are rendered together as the subcharts of one throw-away
umbrella chart (one ``helm template`` instead of one per chart and profile), and ``helm lint``
gets every chart of a group in one call: the umbrella's copies of the charts, each with a values.yaml
holding its profile's values as helm itself coalesced them (read back from the umbrella render).

Only charts whose output cannot tell a subchart render from a root render are batched (see
:func:`batch_blocker`); a profile whose values helm coalesced differently from chartgen's own
reading, or a group whose render fails, falls back to the exact one-pair-per-call path. Findings
are identical either way (tests/test_lint_batch.py checks that on the whole lint corpus).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartgen.archive import chart_files
from chartgen.chart import CHART_FILE, VALUES_FILE

#: the umbrella chart's name; a member chart with this name is not batched
UMBRELLA = "chartgen-lint-batch"
VALUES_TEMPLATE = "templates/chartgen-values.yaml"
#: most members of one umbrella (a failing group is bisected, so this bounds the re-renders)
MAX_GROUP = 48

_DEFINE = re.compile(r"\{\{-?\s*(?:define|block)\s+(?:\"((?:[^\"\\]|\\.)*)\"|`([^`]*)`)")
_INCLUDE = re.compile(r"(?:\{\{-?|\(|=)\s*(?:include|template)\s+(\S)")
_BASEPATH_OK = re.compile(r"\(\s*print\s+\$?\.Template\.BasePath\s")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_DOC_MARKER = re.compile(r"^(---|\.\.\.)(\s|$)")


@dataclass(frozen=True)
class Member:
    """One (chart, profile) pair rendered in an umbrella."""

    key: int  # the caller's index of the pair
    name: str  # the chart's name: its key in the umbrella's values, its directory under charts/
    files: Path  # the chart's files as helm loads them (see materialize), linked into umbrellas
    defines: frozenset[str]
    profile_text: str | None  # the profile's YAML, embedded under the chart's name; None for values.yaml


def batch_blocker(meta: dict[str, Any], templates: dict[str, str], defaults: dict[str, Any]) -> str | None:
    """Why a chart cannot be rendered as a subchart with the same output as on its own (None: it can).

    A subchart differs from a root chart in ``.Chart.IsRoot``, ``.Template.Name``/``BasePath``, an
    injected ``.Values.global`` and a template namespace shared with its siblings; dependencies and
    library charts are handled differently too.
    """
    name = str(meta.get("name") or "")
    if not _NAME.fullmatch(name) or name in (UMBRELLA, "global"):
        return "chart name"  # it becomes a directory and a values key of the umbrella
    if meta.get("dependencies") or str(meta.get("type") or "application") != "application":
        return "dependencies or chart type"
    has_global = isinstance(defaults.get("global"), dict)
    for path, text in templates.items():
        if "IsRoot" in text or "Template.Name" in text:
            return f"{path} reads .Chart.IsRoot or .Template.Name"
        if text.count("Template.BasePath") != len(_BASEPATH_OK.findall(text)):
            return f"{path} uses .Template.BasePath other than to name a template"
        if any(m.group(1) not in "\"`(" for m in _INCLUDE.finditer(text)):
            return f"{path} includes a template by a computed name"
        if not has_global and ("global" in text or re.search(r"\.Values\b(?!\.)", text)):
            return f"{path} reads .Values.global or the whole of .Values"
    return None


def defines(templates: dict[str, str]) -> frozenset[str]:
    """The names of the templates a chart defines (shared among the subcharts of one umbrella)."""
    return frozenset(a or b for text in templates.values() for a, b in _DEFINE.findall(text))


def embeddable(text: str) -> str | None:
    """``text`` (one YAML document) ready to be indented under a key, or None if it cannot be."""
    lines = text.removeprefix("\ufeff").splitlines()
    started = False
    out: list[str] = []
    for line in lines:
        content = line.strip()
        if not started and (not content or content.startswith("#")):
            out.append(line)
            continue
        if not started and line.startswith("%"):
            return None  # a directive
        if not started and re.fullmatch(r"---\s*(#.*)?", line):
            started = True
            continue
        started = True
        if _DOC_MARKER.match(line):
            return None  # a second document or an end marker
        out.append(line)
    return "\n".join(out)


def coalesce(user: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of user values over a chart's defaults (no subcharts): user values win,
    tables merge, a null removes the default."""
    out = dict(user)
    for key, default in defaults.items():
        if key not in out:
            out[key] = default
        elif out[key] is None:
            del out[key]
        elif isinstance(out[key], dict) and isinstance(default, dict):
            out[key] = coalesce(out[key], default)
    return out


def same_values(go: Any, ours: Any) -> bool:
    """Whether values helm read (JSON: numbers are floats) equal chartgen's YAML reading."""
    if isinstance(ours, bool) or isinstance(go, bool):
        return type(go) is type(ours) and go == ours
    if isinstance(ours, int | float) and isinstance(go, int | float):
        return float(go) == float(ours)
    if isinstance(ours, dict) and isinstance(go, dict):
        return go.keys() == ours.keys() and all(same_values(go[k], ours[k]) for k in ours)
    if isinstance(ours, list) and isinstance(go, list):
        return len(go) == len(ours) and all(same_values(a, b) for a, b in zip(go, ours, strict=True))
    return type(go) is type(ours) and go == ours


def plan(members: Iterable[Member], slots: int) -> list[list[Member]]:
    """Groups of members that can share an umbrella: distinct chart names, no template name defined by
    two charts; at least ``slots`` groups where there is enough work, so that every core gets some."""
    members = list(members)
    size = max(1, min(MAX_GROUP, -(-len(members) // max(1, slots))))
    groups: list[list[Member]] = []
    for member in members:
        for group in groups:
            if len(group) < size and all(m.name != member.name and not (m.defines & member.defines)
                                         for m in group):
                group.append(member)
                break
        else:
            groups.append([member])
    return groups


def materialize(chart_dir: Path, root: Path) -> None:
    """Write the files helm loads from ``chart_dir`` (.helmignore applied) under ``root``, once per lint
    run: umbrellas and lint copies hard-link them, as creating files is what costs here."""
    made: set[Path] = set()
    for rel, data in chart_files(chart_dir).items():
        path = root / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(data)


def _link_tree(source: Path, target: Path) -> None:
    for directory, _dirs, names in os.walk(source):
        rel = os.path.relpath(directory, source)
        into = target / rel if rel != "." else target
        into.mkdir(parents=True, exist_ok=True)
        for name in names:
            try:
                os.link(os.path.join(directory, name), into / name)
            except OSError:  # a file system without hard links
                shutil.copyfile(os.path.join(directory, name), into / name)


def write_umbrella(root: Path, group: list[Member]) -> None:
    """The umbrella chart: each member's files under charts/NAME, its profile under NAME in values.yaml,
    and a template that prints the coalesced values (so that the lint copies can use helm's own)."""
    (root / "templates").mkdir(parents=True)
    (root / CHART_FILE).write_text(f"apiVersion: v2\nname: {UMBRELLA}\nversion: 0.0.0\n", encoding="utf-8")
    values = []
    for member in group:
        _link_tree(member.files, member_dir(root, member))
        if member.profile_text is not None:
            indented = "\n".join(f"  {line}" if line.strip() else "" for line in member.profile_text.splitlines())
            values.append(f"{json.dumps(member.name)}:\n{indented}\n")
    (root / VALUES_FILE).write_text("".join(values), encoding="utf-8")
    (root / VALUES_TEMPLATE).write_text("# chartgen-values\n{{ .Values | toJson }}\n", encoding="utf-8")


def member_dir(root: Path, member: Member) -> Path:
    """Where the umbrella at ``root`` holds the member's chart."""
    return root / "charts" / member.name


def set_values(chart: Path, values: dict[str, Any]) -> None:
    """Replace the values.yaml of a chart copy (a hard link: unlinked first) by ``values`` (JSON is YAML)."""
    (chart / VALUES_FILE).unlink(missing_ok=True)
    (chart / VALUES_FILE).write_text(json.dumps(values), encoding="utf-8")


def split_umbrella(sources: Iterable[tuple[str, str]]) -> tuple[dict[str, list[tuple[str, str]]], Any]:
    """The umbrella's rendered (path, text) pairs by member name (paths as a chart's own render gives
    them) and the coalesced values it printed (None if missing)."""
    by_chart: dict[str, list[tuple[str, str]]] = {}
    values = None
    for path, text in sources:
        if path == VALUES_TEMPLATE:
            body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
            try:
                values = json.loads(body)
            except ValueError:
                values = None
            continue
        _charts, _sep, rest = path.partition("/")
        name, _sep, inner = rest.partition("/")
        by_chart.setdefault(name, []).append((inner, text))
    return by_chart, values


_HEADER = "==> Linting "


def split_lint_output(stdout: str) -> dict[str, list[str]]:
    """``helm lint A B ...`` output: the lines of each chart's section, by the path it was given."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in stdout.splitlines():
        if line.startswith(_HEADER):
            current = sections.setdefault(line[len(_HEADER):], [])
        elif current is not None:
            current.append(line)
    return sections
