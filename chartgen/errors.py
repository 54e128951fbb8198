"""The one exception tree of chartgen.

Every error a user can cause is a :class:`ChartgenError`; the CLI catches it once,
prints ``Error: <message>`` on one line and exits with :attr:`ChartgenError.exit_code`.
Messages say what went wrong *and* what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence


class ChartgenError(Exception):
    """Base of all chartgen errors. ``exit_code`` 1: the command failed."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ChartgenError):
    """The command line or an argument is invalid (exit code 2, like click's own usage errors)."""

    exit_code = 2


class InvalidNameError(UsageError):
    """A chart, release or service name breaks the naming rules."""


class InvalidVersionError(UsageError):
    """A version is not strict SemVer 2 (or an app version is not a valid image tag)."""


class InvalidValueError(UsageError):
    """An option value (port, image repository, Go module path, ...) is invalid."""


class TargetExistsError(ChartgenError):
    """The output path already exists and --force was not given."""


class ChartError(ChartgenError):
    """A chart on disk is missing or malformed (Chart.yaml, values, templates)."""


class HelmNotFoundError(ChartgenError):
    """No helm binary could be found."""


class HelmError(ChartgenError):
    """A helm command failed; keeps its (censored) command line, stdout and stderr."""

    def __init__(self, message: str, *, argv: Sequence[str] = (), stdout: str = "", stderr: str = "",
                 returncode: int | None = None) -> None:
        super().__init__(message)
        self.argv = list(argv)
        self.stdout = stdout
        self.stderr = stderr
        self.returncode = returncode
