"""The only place that runs the helm binary.

helm is found from ``--helm PATH``, then ``CHARTGEN_HELM``, then ``PATH``. Failures become
:class:`HelmError` with stdout/stderr kept; command lines are censored before they are
echoed or put into an error, so a password given as a flag value never shows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chartgen.errors import HelmError, HelmNotFoundError

ENV_HELM = "CHARTGEN_HELM"
_SECRET_FLAGS = ("--password", "--token", "--key-file", "--cert-file", "--pass", "--passphrase")
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
HOW_TO_GET_HELM = ("install helm 3 or 4 (https://helm.sh/docs/intro/install/; in a chartgen checkout: make tools), "
                   f"then put it on PATH, set {ENV_HELM} or pass --helm PATH")


@dataclass(frozen=True)
class Helm:
    """A located helm binary and its version."""

    path: str
    version: tuple[int, int, int]

    @property
    def major(self) -> int:
        return self.version[0]

    def run(self, args: Sequence[str], *, cwd: str | os.PathLike[str] | None = None, timeout: float = 300,
            check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``helm ARGS``; raise HelmError (with censored argv) when it fails and ``check`` is set."""
        argv = [self.path, *args]
        try:
            proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, input=input,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise HelmError(f"helm timed out after {timeout:.0f}s: {' '.join(censor(argv))}",
                            argv=censor(argv)) from exc
        except OSError as exc:
            raise HelmNotFoundError(f"cannot run {self.path}: {exc.strerror}; {HOW_TO_GET_HELM}") from None
        if check and proc.returncode != 0:
            detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
            last = detail[-1] if detail else f"exit code {proc.returncode}"
            raise HelmError(f"{' '.join(censor(argv[:3]))} failed: {last}", argv=censor(argv),
                            stdout=proc.stdout, stderr=proc.stderr, returncode=proc.returncode)
        return proc


def censor(argv: Sequence[str]) -> list[str]:
    """A copy of ``argv`` with the values of secret-bearing flags replaced by '***'."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        flag, sep, _value = arg.partition("=")
        if flag in _SECRET_FLAGS:
            if sep:
                out.append(f"{flag}=***")
            else:
                out.append(arg)
                hide_next = True
        else:
            out.append(arg)
    return out


def find_helm(explicit: str | None = None) -> Helm:
    """Locate helm (``explicit``, then $CHARTGEN_HELM, then PATH) and read its version."""
    candidate = explicit or os.environ.get(ENV_HELM) or shutil.which("helm")
    if not candidate:
        raise HelmNotFoundError(f"helm not found: {HOW_TO_GET_HELM}")
    path = shutil.which(candidate) if os.sep not in candidate else candidate
    if not path or not Path(path).is_file():
        raise HelmNotFoundError(f"helm not found at {candidate!r}: {HOW_TO_GET_HELM}")
    return Helm(path=path, version=helm_version(path))


def helm_version(path: str) -> tuple[int, int, int]:
    """Ask ``helm version`` (works on helm 3 and 4) and parse ``vX.Y.Z``."""
    try:
        proc = subprocess.run([path, "version", "--template", "{{.Version}}"], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HelmNotFoundError(f"cannot run {path} ({exc}): {HOW_TO_GET_HELM}") from None
    match = _VERSION.search(proc.stdout)
    if proc.returncode != 0 or not match:
        raise HelmNotFoundError(f"{path} does not look like helm (version output {proc.stdout.strip()!r})")
    major, minor, patch = (int(g) for g in match.groups())
    if major not in (3, 4):
        raise HelmNotFoundError(f"{path} is helm {major}.{minor}.{patch}; chartgen needs helm 3 or 4")
    return major, minor, patch
