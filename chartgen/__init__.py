"""chartgen: scaffold Go services with production-grade Helm charts, then bump, lint, package and publish them.

The public API is library-first; the ``chartgen`` CLI only parses arguments, calls one of
these functions and prints the result. Names are imported lazily, so ``chartgen.index`` (the
hot path of repository work) does not pay for Jinja2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "ChartgenError": ("chartgen.errors", "ChartgenError"),
    "create_chart": ("chartgen.scaffold", "create_chart"),
    "CreateResult": ("chartgen.scaffold", "CreateResult"),
    "create_service": ("chartgen.scaffold", "create_service"),
    "bump": ("chartgen.version", "bump"),
    "changed_charts": ("chartgen.changes", "changed_charts"),
    "lint": ("chartgen.lint", "lint"),
    "package": ("chartgen.archive", "package_charts"),
    "PackageResult": ("chartgen.archive", "PackageResult"),
    "index": ("chartgen.repo_index", "index"),
    "IndexFile": ("chartgen.index", "IndexFile"),
    "publish": ("chartgen.publish", "publish"),
    "release": ("chartgen.release", "release"),
}

__all__ = ["ChartgenError", "CreateResult", "IndexFile", "PackageResult", "__version__", "bump", "changed_charts",
           "create_chart", "create_service", "index", "lint", "package", "publish", "release"]

if TYPE_CHECKING:
    from chartgen.archive import PackageResult
    from chartgen.archive import package_charts as package
    from chartgen.changes import changed_charts
    from chartgen.errors import ChartgenError
    from chartgen.index import IndexFile
    from chartgen.lint import lint
    from chartgen.publish import publish
    from chartgen.release import release
    from chartgen.repo_index import index
    from chartgen.scaffold import CreateResult, create_chart, create_service
    from chartgen.version import bump


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'chartgen' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value
