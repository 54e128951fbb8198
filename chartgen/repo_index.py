"""``chartgen index DIR``: build or update a repository's index.yaml from the archives in DIR."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chartgen.archive import read_chart_archive
from chartgen.errors import ChartgenError
from chartgen.index import INDEX_FILE, ChartVersion, IndexFile, join_url


@dataclass
class IndexResult:
    """What :func:`index` did."""

    path: str
    charts: int
    versions: int
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: int = 0
    removed: list[str] = field(default_factory=list)
    format: str = "yaml"
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_archives(directory: Path) -> list[Path]:
    """``*.tgz`` in ``directory`` and one level below it (as ``helm repo index`` looks)."""
    found = sorted(directory.glob("*.tgz")) + sorted(directory.glob("*/*.tgz"))
    return [p for p in found if p.is_file()]


def index(directory: str | os.PathLike[str], *, url: str | None = None, merge: str | os.PathLike[str] | None = None,
          output: str | os.PathLike[str] | None = None, fmt: str | None = None) -> IndexResult:
    """Write ``DIR/index.yaml`` for the chart archives in ``DIR``.

    Without ``merge``, the index lists exactly the archives in DIR, and entries that an existing
    DIR/index.yaml already had (same name, version and digest) keep their ``created`` time.
    With ``merge FILE``, every entry of FILE is kept as it is and the archives of DIR are added
    (an archive whose digest differs from FILE's entry replaces it, with a warning). A YAML
    index is updated in place: only the changed charts' blocks are rewritten. Nothing is
    written when any archive or the existing index cannot be read.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ChartgenError(f"{root}: not a directory; give the directory that holds the chart archives")
    target = Path(output) if output else root / INDEX_FILE
    archives = [read_chart_archive(path) for path in find_archives(root)]

    result_warnings: list[str] = []
    if merge is not None:
        base = IndexFile.load(merge)
        keep_missing = True
    elif target.is_file():
        base = IndexFile.load(target)
        keep_missing = False
    else:
        base = IndexFile()
        keep_missing = True

    seen: set[tuple[str, str]] = set()
    added, updated = [], []
    kept = 0
    for archive in archives:
        key = (archive.name, archive.version)
        if key in seen:
            raise ChartgenError(f"{archive.path}: {archive.name} {archive.version} appears twice in {root}; "
                                "remove one of the archives")
        seen.add(key)
        rel_parent = os.path.relpath(Path(archive.path).parent, root)
        entry_url = join_url(url, "" if rel_parent == "." else rel_parent, Path(archive.path).name)
        existing = base.get(archive.name, archive.version)
        if existing is not None and existing.digest == archive.digest:
            if existing.urls != [entry_url]:
                existing.data["urls"] = [entry_url]
                base.changed.add(archive.name)
            kept += 1
            continue
        if existing is not None:
            result_warnings.append(f"{archive.name} {archive.version}: the archive's digest differs from the "
                                   "index entry; the entry now describes the archive (and gets a new created time)")
            updated.append(f"{archive.name}-{archive.version}")
        else:
            added.append(f"{archive.name}-{archive.version}")
        base.put(ChartVersion.from_archive(archive, entry_url))

    removed = []
    if not keep_missing:
        for name in list(base.entries):
            for version in base.versions(name):
                if (name, version) not in seen:
                    base.remove(name, version)
                    removed.append(f"{name}-{version}")

    base.write(target, fmt)
    return IndexResult(path=str(target), charts=len(base.entries), versions=len(base), added=added, updated=updated,
                       kept=kept, removed=removed, format=fmt or base.format, warnings=result_warnings)
