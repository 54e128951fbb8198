"""Chart names, file-name constants and the Chart.yaml model (:class:`Metadata`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chartgen.errors import (
    ChartError,
    ChartgenError,
    InvalidNameError,
    InvalidValueError,
    InvalidVersionError,
)

CHART_FILE = "Chart.yaml"
VALUES_FILE = "values.yaml"
SCHEMA_FILE = "values.schema.json"
TEMPLATES_DIR = "templates"
CHARTS_DIR = "charts"
HELMIGNORE_FILE = ".helmignore"
PROFILES = ("dev", "staging", "prod")

#: Kubernetes object names are DNS-1123 labels: at most 63 characters.
MAX_CHART_NAME = 63
#: Past this length, ``<release>-<chart>`` hits the 63-character truncation of the
#: fullname helper for all but the shortest release names.
LONG_CHART_NAME = 40

#: PyYAML's safe loader, the C one when it is built in (5x faster on a monorepo's hundred Chart.yaml
#: files and on rendered manifests).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_DNS1123_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# A strict SemVer 2 version, no 'v' prefix (semver.org's recommended regex).
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# An OCI/Docker image tag.
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# An image repository: optional registry host[:port], then lowercase path components.
_IMAGE_REPOSITORY = re.compile(
    # A first component is a registry host only with a '.' or a ':port', or as 'localhost' (Docker's rule);
    # otherwise it is a path component, which must be lowercase.
    r"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+(?::[0-9]+)?"
    r"|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?:[0-9]+|localhost)/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)


def validate_chart_name(name: str) -> list[str]:
    """Check ``name`` is a DNS-1123 label usable as a chart name; return warnings.

    Raises :class:`InvalidNameError` before any path is built from the name.
    """
    shown = repr(name)
    if not name:
        raise InvalidNameError("chart name is empty: give a name such as 'my-service'")
    if len(name) > MAX_CHART_NAME:
        raise InvalidNameError(
            f"chart name {shown} is {len(name)} characters long; Kubernetes names allow at most "
            f"{MAX_CHART_NAME}: choose a shorter name"
        )
    if not _DNS1123_LABEL.fullmatch(name):
        raise InvalidNameError(
            f"chart name {shown} is not a DNS-1123 label: use lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit (for example 'my-service')"
        )
    warnings = []
    if len(name) > LONG_CHART_NAME:
        room = MAX_CHART_NAME - len(name) - 1
        warnings.append(
            f"chart name {shown} is {len(name)} characters long: object names '<release>-{name}' are "
            f"truncated to {MAX_CHART_NAME} characters for release names longer than {room}; "
            "consider a shorter name or set fullnameOverride"
        )
    return warnings


def validate_version(version: str, what: str = "chart version") -> None:
    """Check ``version`` is strict SemVer 2 (``1.2.3``, ``1.2.3-rc.0``, ``1.2.3+build``)."""
    if not _SEMVER.fullmatch(version):
        hint = " (drop the 'v' prefix)" if version[:1] in "vV" and _SEMVER.fullmatch(version[1:]) else ""
        raise InvalidVersionError(
            f"{what} {version!r} is not a strict SemVer 2 version such as 1.2.3 or 1.2.3-rc.0{hint}"
        )


def validate_app_version(app_version: str) -> None:
    """appVersion is the default image tag, so it must be a valid image tag."""
    if not _IMAGE_TAG.fullmatch(app_version):
        raise InvalidVersionError(
            f"app version {app_version!r} is not a valid image tag: use letters, digits, '_', '.' and '-' "
            "(at most 128, not starting with '.' or '-'), for example 1.0.0"
        )


_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_MAINTAINER = re.compile(r"\s*([^<>]*?)\s*(?:<([^<>]*)>)?\s*")


def parse_maintainer(text: str) -> dict[str, str]:
    """'Jane Doe <jane@example.com>' (or just a name) -> a Chart.yaml maintainer entry."""
    match = _MAINTAINER.fullmatch(text)
    if not match or not match.group(1) or "\n" in text:
        raise InvalidValueError(f"maintainer {text!r}: write it as 'NAME' or 'NAME <EMAIL>', on one line")
    entry = {"name": match.group(1)}
    if match.group(2) is not None:
        if not _EMAIL.fullmatch(match.group(2)):
            raise InvalidValueError(f"maintainer {text!r}: {match.group(2)!r} is not an email address "
                                    "(helm lint refuses it)")
        entry["email"] = match.group(2)
    return entry


def validate_icon(url: str) -> None:
    """An icon is an http(s) URL with a host (helm lint refuses anything else)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise InvalidValueError(f"icon {url!r} is not an http(s) URL, e.g. https://example.com/icon.svg")


def validate_image_repository(repository: str) -> None:
    """Check an image repository reference without tag or digest (``registry:5000/team/app``)."""
    if len(repository) > 255 or not _IMAGE_REPOSITORY.fullmatch(repository):
        raise InvalidValueError(
            f"image repository {repository!r} is invalid: use an optional registry host[:port]/ followed by "
            "lowercase path components, without tag or digest (for example registry.example.com/team/app)"
        )


def validate_port(port: int) -> None:
    """Ports are 1-65535."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidValueError(f"port {port!r} is out of range: use a number from 1 to 65535")


@dataclass
class Metadata:
    """The fields of Chart.yaml that chartgen reads; ``raw`` keeps the whole document."""

    name: str
    version: str
    api_version: str = "v2"
    app_version: str | None = None
    description: str = ""
    type: str = "application"
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, source: str = CHART_FILE) -> Metadata:
        """Build and validate Metadata from a parsed Chart.yaml."""
        if not isinstance(data, dict):
            raise ChartError(f"{source}: expected a mapping with apiVersion, name and version")
        for key in ("apiVersion", "name", "version"):
            if not data.get(key):
                raise ChartError(f"{source}: required field {key!r} is missing or empty")
        name, version = str(data["name"]), str(data["version"])
        if data["apiVersion"] not in ("v1", "v2"):
            raise ChartError(f"{source}: apiVersion must be v2 (or v1 for old charts), not {data['apiVersion']!r}")
        try:
            validate_chart_name(name)
            validate_version(version)
        except ChartgenError as exc:  # re-raise as a chart problem naming the file
            raise ChartError(f"{source}: {exc}") from exc
        app = data.get("appVersion")
        return cls(
            name=name,
            version=version,
            api_version=str(data["apiVersion"]),
            app_version=None if app is None else str(app),
            description=str(data.get("description") or ""),
            type=str(data.get("type") or "application"),
            raw=data,
        )

    @classmethod
    def load(cls, chart_dir: str | Path) -> Metadata:
        """Read and validate ``CHART_DIR/Chart.yaml``."""
        path = Path(chart_dir) / CHART_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ChartError(f"{path}: no Chart.yaml here; is {chart_dir} a chart directory?") from None
        except OSError as exc:
            raise ChartError(f"{path}: cannot read: {exc.strerror}") from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, source: str = CHART_FILE) -> Metadata:
        """Parse and validate Chart.yaml text (``source`` names it in errors)."""
        try:
            data = yaml.load(text.removeprefix("\ufeff"), Loader=YAML_LOADER)
        except yaml.YAMLError as exc:
            raise ChartError(f"{source}: not valid YAML: {_one_line(exc)}") from None
        return cls.from_dict(data, source)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())

