"""Offline validation of rendered manifests against the Kubernetes JSON schemas (strict).

The schemas come from the kubernetes-validate package (1.25 to 1.37 bundled). Its own
``validate()`` re-reads the schema files for every resource and stops at the first error;
here each (version, kind, apiVersion) validator is compiled once and reports every error.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema
from referencing import Registry, Resource

_SCHEMAS = "kubernetes-json-schema"


@dataclass(frozen=True)
class SchemaProblem:
    """One validation error: the field path (dotted) and the message."""

    path: str
    message: str


@functools.lru_cache(maxsize=1)
def bundled_versions() -> tuple[str, ...]:
    """The Kubernetes minor versions with bundled schemas, oldest first ('1.25', ..., '1.37')."""
    root = resources.files("kubernetes_validate").joinpath(_SCHEMAS)
    found = {m.group(1) for entry in root.iterdir() if (m := re.fullmatch(r"v(\d+\.\d+)\.\d+-local-strict",
                                                                          entry.name))}
    return tuple(sorted(found, key=lambda v: tuple(int(x) for x in v.split("."))))


def minor(version: str) -> str:
    """'v1.29.3' -> '1.29'."""
    match = re.match(r"v?(\d+)\.(\d+)", version.strip())
    if not match:
        raise ValueError(f"{version!r} is not a Kubernetes version such as 1.29")
    return f"{int(match.group(1))}.{int(match.group(2))}"


def schema_version(version: str) -> str | None:
    """The newest bundled schema version not newer than ``version``; None if ``version`` is older than all."""
    wanted = tuple(int(x) for x in minor(version).split("."))
    candidates = [v for v in bundled_versions() if tuple(int(x) for x in v.split(".")) <= wanted]
    return candidates[-1] if candidates else None


def default_versions() -> list[str]:
    """The newest bundled version and the oldest one Kubernetes still supports (three minors are)."""
    versions = bundled_versions()
    return sorted({versions[-1], versions[max(0, len(versions) - 3)]}, key=lambda v: tuple(map(int, v.split("."))))


def _read(path: str) -> Any:
    with resources.files("kubernetes_validate").joinpath(path).open("r", encoding="utf-8") as fh:
        return json.load(fh)


@functools.lru_cache(maxsize=16)
def _definitions(directory: str) -> Resource:
    return Resource.from_contents(_read(f"{_SCHEMAS}/{directory}/_definitions.json"))


@functools.lru_cache(maxsize=2048)
def _validator(schema_ver: str, kind: str, api_version: str) -> jsonschema.protocols.Validator | None:
    directory = f"v{schema_ver}.0-local-strict"
    # rbac.authorization.k8s.io/v1 -> rbac-v1 ; v1 -> v1 (the package's file naming)
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = _read(f"{_SCHEMAS}/{directory}/{kind.lower()}-{api}.json")
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ Registry()
    registry = _definitions(directory) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


#: results by (schema version, repr of the document): the profiles of a chart render many
#: identical objects (ServiceAccount, Service, test Pod), and validating is most of lint's own time
_RESULTS: dict[tuple[str, str], tuple[SchemaProblem, ...] | None] = {}
_MAX_RESULTS = 4096


def validate(doc: dict[str, Any], version: str) -> list[SchemaProblem] | None:
    """All schema problems of ``doc`` for Kubernetes ``version``; None when there is no schema for its kind."""
    schema_ver = schema_version(version)
    if schema_ver is None:
        raise ValueError(f"Kubernetes {version} is older than the bundled schemas ({bundled_versions()[0]}+)")
    kind, api_version = doc.get("kind"), doc.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return [SchemaProblem("", "missing kind or apiVersion")]
    # repr tells apart what JSON would merge (1 and '1' as keys, 1 and 1.0 and True)
    key = (schema_ver, repr(doc))
    if key in _RESULTS:
        cached = _RESULTS[key]
        return None if cached is None else list(cached)
    validator = _validator(schema_ver, kind, api_version)
    problems = None
    if validator is not None:
        errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
        problems = [SchemaProblem(".".join(str(p) for p in e.absolute_path), _short(e)) for e in errors]
    if len(_RESULTS) >= _MAX_RESULTS:
        _RESULTS.clear()
    _RESULTS[key] = None if problems is None else tuple(problems)
    return problems


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)' (?:was|were) unexpected", error.message)
        if extra:
            return f"unknown field {extra[0]!r}" if len(extra) == 1 else f"unknown fields {extra}"
    message = error.message
    return message if len(message) < 200 else message[:197] + "..."


# (group/version, kind) -> (deprecated in, removed in); kind "*" means every kind of that group/version.
# From the Kubernetes deprecated API migration guide.
DEPRECATED_APIS: dict[tuple[str, str], tuple[str, str]] = {
    ("extensions/v1beta1", "*"): ("1.14", "1.16"),
    ("apps/v1beta1", "*"): ("1.9", "1.16"),
    ("apps/v1beta2", "*"): ("1.9", "1.16"),
    ("extensions/v1beta1", "Ingress"): ("1.14", "1.22"),
    ("networking.k8s.io/v1beta1", "Ingress"): ("1.19", "1.22"),
    ("networking.k8s.io/v1beta1", "IngressClass"): ("1.19", "1.22"),
    ("rbac.authorization.k8s.io/v1beta1", "*"): ("1.17", "1.22"),
    ("admissionregistration.k8s.io/v1beta1", "*"): ("1.16", "1.22"),
    ("apiextensions.k8s.io/v1beta1", "*"): ("1.16", "1.22"),
    ("scheduling.k8s.io/v1beta1", "*"): ("1.14", "1.22"),
    ("coordination.k8s.io/v1beta1", "*"): ("1.14", "1.22"),
    ("certificates.k8s.io/v1beta1", "*"): ("1.19", "1.22"),
    ("storage.k8s.io/v1beta1", "CSIDriver"): ("1.19", "1.22"),
    ("storage.k8s.io/v1beta1", "CSINode"): ("1.17", "1.22"),
    ("storage.k8s.io/v1beta1", "StorageClass"): ("1.6", "1.22"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"): ("1.13", "1.22"),
    ("batch/v1beta1", "CronJob"): ("1.21", "1.25"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): ("1.21", "1.25"),
    ("events.k8s.io/v1beta1", "Event"): ("1.19", "1.25"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): ("1.22", "1.25"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.21", "1.25"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.21", "1.25"),
    ("node.k8s.io/v1beta1", "RuntimeClass"): ("1.20", "1.25"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): ("1.23", "1.26"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*"): ("1.23", "1.26"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.24", "1.27"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*"): ("1.26", "1.29"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*"): ("1.29", "1.32"),
}


def api_lifecycle(api_version: str, kind: str) -> tuple[str, str] | None:
    """(deprecated in, removed in) for an apiVersion/kind, or None when it is current."""
    return DEPRECATED_APIS.get((api_version, kind)) or DEPRECATED_APIS.get((api_version, "*"))
