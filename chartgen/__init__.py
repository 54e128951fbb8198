"""chartgen: scaffold Go services with production-grade Helm charts, then bump, lint, package and publish them.

The public API is library-first; the ``chartgen`` CLI only parses arguments, calls one of
these functions and prints the result.
"""

from chartgen.errors import ChartgenError
from chartgen.scaffold import CreateResult, create_chart

__all__ = ["ChartgenError", "CreateResult", "__version__", "create_chart"]
__version__ = "0.1.0"
