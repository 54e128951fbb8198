"""Release configuration: flags > CHARTGEN_* environment > [tool.chartgen] in pyproject.toml or chartgen.yaml."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from chartgen.errors import UsageError


@dataclass
class ReleaseConfig:
    """Settings of `chartgen release` (every field can come from any of the three sources)."""

    repo: str | None = None
    charts_dir: str = "charts"
    since: str | None = None
    bump: str = "patch"
    jobs: int | None = None
    repo_kind: str = "auto"
    package_dir: str = "dist"
    skip_rules: list[str] = field(default_factory=list)
    kube_versions: list[str] = field(default_factory=list)
    strict: bool = False
    plain_http: bool = False
    init: bool = False
    #: where each setting came from (flag, environment, pyproject.toml, chartgen.yaml, default)
    sources: dict[str, str] = field(default_factory=dict)


_LISTS = {"skip_rules", "kube_versions"}
_BOOLS = {"strict", "plain_http", "init"}
_INTS = {"jobs"}


def _coerce(name: str, value: Any, source: str) -> Any:
    if name in _LISTS:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            return [str(v) for v in value]
    elif name in _BOOLS:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
    elif name in _INTS:
        try:
            return int(value)
        except (TypeError, ValueError):
            pass
    elif isinstance(value, (str, int, float)):
        return str(value)
    raise UsageError(f"{source}: invalid value {value!r} for {name}")


def _file_settings(directory: Path) -> tuple[dict[str, Any], str]:
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            try:
                import tomli as tomllib
            except ImportError:
                tomllib = None
        if tomllib is not None:
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise UsageError(f"{pyproject}: not valid TOML ({exc})") from None
            table = data.get("tool", {}).get("chartgen")
            if isinstance(table, dict):
                return table, "pyproject.toml [tool.chartgen]"
    for name in ("chartgen.yaml", ".chartgen.yaml"):
        path = directory / name
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise UsageError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
            if not isinstance(data, dict):
                raise UsageError(f"{path}: must be a mapping of settings")
            release = data.get("release", data)
            return release if isinstance(release, dict) else {}, name
    return {}, ""


def load(flags: Mapping[str, Any], *, directory: Path | None = None,
         env: Mapping[str, str] | None = None) -> ReleaseConfig:
    """Merge the three sources; ``flags`` holds only the options given on the command line."""
    env = os.environ if env is None else env
    names = {f.name for f in fields(ReleaseConfig)} - {"sources"}
    file_values, file_source = _file_settings(directory or Path.cwd())
    unknown = sorted(set(k.replace("-", "_") for k in file_values) - names)
    if unknown:
        raise UsageError(f"{file_source}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(names))}")
    config = ReleaseConfig()
    for name in sorted(names):
        value, source = None, "default"
        if flags.get(name) not in (None, (), [], False):
            value, source = flags[name], "flag"
        elif env.get(f"CHARTGEN_{name.upper()}"):
            value, source = env[f"CHARTGEN_{name.upper()}"], f"CHARTGEN_{name.upper()}"
        elif name in file_values or name.replace("_", "-") in file_values:
            value = file_values.get(name, file_values.get(name.replace("_", "-")))
            source = file_source
        if source != "default":
            setattr(config, name, _coerce(name, value, source))
        config.sources[name] = source
    return config
