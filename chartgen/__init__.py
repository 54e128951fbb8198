"""chartgen: scaffold Go services with production-grade Helm charts, then bump, lint, package and publish them.

The public API is library-first; the ``chartgen`` CLI only parses arguments, calls one of
these functions and prints the result. Names are imported lazily, so ``chartgen.index`` (the
hot path of repository work) does not pay for Jinja2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "ChartgenError": "chartgen.errors",
    "CreateResult": "chartgen.scaffold",
    "create_chart": "chartgen.scaffold",
    "package": "chartgen.archive",
    "PackageResult": "chartgen.archive",
    "index": "chartgen.repo_index",
    "IndexFile": "chartgen.index",
}

__all__ = [
    "ChartgenError",
    "CreateResult",
    "IndexFile",
    "PackageResult",
    "__version__",
    "create_chart",
    "index",
    "package",
]

if TYPE_CHECKING:
    from chartgen.archive import PackageResult
    from chartgen.archive import package_chart as package
    from chartgen.errors import ChartgenError
    from chartgen.index import IndexFile
    from chartgen.repo_index import index
    from chartgen.scaffold import CreateResult, create_chart


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'chartgen' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(module_name)
    value = getattr(module, "package_chart" if name == "package" else name)
    globals()[name] = value
    return value
