"""The values of a generated chart: one specification, three renderings.

:func:`values_spec` describes every value (key, default, JSON schema, documentation).
From it come ``values.yaml`` (every key commented), ``values.schema.json`` (draft-07, so
helm 3.17's gojsonschema and helm 4's validator both enforce it) and the values table of
the chart's README. They cannot drift apart: none of them is written by hand.

Schema policy: unknown keys are refused inside every object the chart defines, and unknown
top-level keys are accepted only as objects (they are the values of subcharts, which Helm
passes under each dependency's name), so a typo such as ``replicaCont: 3`` or ``image.tagg``
fails ``helm install``. Objects that are passed through to Kubernetes verbatim (resources,
probes, affinity, security contexts, ...) only get a type check here; their fields are checked
against the Kubernetes schemas by ``chartgen lint``. ``global`` is always allowed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

DRAFT_07 = "http://json-schema.org/draft-07/schema#"


@dataclass(frozen=True)
class Answers:
    """What the user chose when creating the chart; everything else is a fixed default."""

    name: str
    image_repository: str
    port: int = 8080
    app_version: str = "0.1.0"
    version: str = "0.1.0"
    description: str = ""
    icon: str = ""
    maintainers: tuple[Mapping[str, str], ...] = ()

    @property
    def summary(self) -> str:
        return self.description or f"A Helm chart for the {self.name} Go HTTP service"


@dataclass(frozen=True)
class Value:
    """One key of values.yaml: a leaf with a default and a schema, or a group of children.

    ``example`` is YAML shown as a comment under the key in values.yaml (for keys whose
    default is empty). ``open_object`` groups accept keys beyond their children.
    """

    key: str
    doc: str
    default: Any = None
    schema: Mapping[str, Any] = field(default_factory=dict)
    children: tuple[Value, ...] = ()
    example: str = ""

    @property
    def is_group(self) -> bool:
        return bool(self.children)


# --- schema fragments -------------------------------------------------------------------

def _string(**extra: Any) -> dict[str, Any]:
    return {"type": "string", **extra}


_BOOL: dict[str, Any] = {"type": "boolean"}
_PORT: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 65535}
_OBJECT: dict[str, Any] = {"type": "object"}
_LIST_OF_OBJECTS: dict[str, Any] = {"type": "array", "items": {"type": "object"}}
_STRING_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
_INT_OR_PERCENT: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": "^[0-9]+%$"},
    ]
}
# Keys of ConfigMap/Secret data (they become environment variable names through envFrom).
_DATA_KEY = "^[-._a-zA-Z0-9]+$"
_DURATION = "^([0-9]+(ms|s|m|h))+$"


def values_spec(answers: Answers) -> tuple[Value, ...]:
    """The full values specification of a chart created with ``answers``."""
    port = answers.port
    name = answers.name
    return (
        Value("replicaCount", "Number of pods. Ignored when autoscaling.enabled is true (the HPA owns it).",
              1, {"type": "integer", "minimum": 0}),
        Value("image", "Container image of the service.", children=(
            Value("repository", "Image repository, without tag.", answers.image_repository, _string(minLength=1)),
            Value("pullPolicy", "Image pull policy.", "IfNotPresent",
                  {"type": "string", "enum": ["Always", "IfNotPresent", "Never"]}),
            Value("tag", "Image tag; empty means the chart's appVersion. Pin a release version, never 'latest'.",
                  "", _string(pattern="^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$")),
        )),
        Value("imagePullSecrets", "Secrets for pulling the image from a private registry.", [],
              {"type": "array", "items": {"type": "object", "required": ["name"],
                                          "properties": {"name": _string(minLength=1)}}},
              example="- name: registry-credentials"),
        Value("nameOverride", "Replaces the chart name in object names and the app.kubernetes.io/name label.", "",
              _string(maxLength=63)),
        Value("fullnameOverride", "Replaces the generated '<release>-<chart>' object name entirely.", "",
              _string(maxLength=63)),
        Value("serviceAccount", "ServiceAccount the pods run as.", children=(
            Value("create", "Create a ServiceAccount for the release.", True, _BOOL),
            Value("automount", "Mount the ServiceAccount's API token into the pods (off: the service does not "
                  "call the Kubernetes API).", False, _BOOL),
            Value("annotations", "Annotations of the ServiceAccount (e.g. cloud IAM role bindings).", {},
                  _STRING_MAP),
            Value("name", "Name of the ServiceAccount; empty means the fullname when create is true, "
                  "'default' otherwise.", "", _string()),
        )),
        Value("podAnnotations", "Extra annotations of the pods.", {}, _STRING_MAP),
        Value("podLabels", "Extra labels of the pods.", {}, _STRING_MAP),
        Value("podSecurityContext", "Pod-level security context: non-root user, group and seccomp profile.", {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "fsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        }, _OBJECT),
        Value("securityContext", "Container security context: no privilege escalation, read-only root "
              "filesystem, all capabilities dropped.", {
                  "allowPrivilegeEscalation": False,
                  "readOnlyRootFilesystem": True,
                  "runAsNonRoot": True,
                  "capabilities": {"drop": ["ALL"]},
              }, _OBJECT),
        Value("containerPort", "Port the service listens on inside the container; passed to it as the PORT "
              "environment variable.", port, _PORT),
        Value("service", "Service in front of the pods.", children=(
            Value("type", "Service type.", "ClusterIP",
                  {"type": "string", "enum": ["ClusterIP", "NodePort", "LoadBalancer"]}),
            Value("port", "Port of the Service; traffic goes to the container's 'http' port.", 80, _PORT),
            Value("nodePort", "Fixed node port when type is NodePort or LoadBalancer; null lets Kubernetes "
                  "choose.", None, {"type": ["integer", "null"], "minimum": 30000, "maximum": 32767}),
            Value("annotations", "Annotations of the Service.", {}, _STRING_MAP),
        )),
        Value("ingress", "Ingress exposing the Service over HTTP(S).", children=(
            Value("enabled", "Create an Ingress.", False, _BOOL),
            Value("className", "IngressClass to use (e.g. nginx); empty means the cluster default.", "", _string()),
            Value("annotations", "Annotations of the Ingress (e.g. cert-manager, rewrite rules).", {},
                  _STRING_MAP, example="cert-manager.io/cluster-issuer: letsencrypt"),
            Value("hosts", "Host and path rules routed to the Service.", [
                {"host": f"{name}.example.local", "paths": [{"path": "/", "pathType": "Prefix"}]},
            ], {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["paths"],
                "properties": {
                    "host": _string(),
                    "paths": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "additionalProperties": False, "required": ["path"],
                        "properties": {
                            "path": _string(pattern="^/"),
                            "pathType": {"type": "string", "enum": ["Prefix", "Exact", "ImplementationSpecific"]},
                        }}},
                }}}),
            Value("tls", "TLS settings: secret names and the hosts they cover.", [],
                  {"type": "array", "items": {
                      "type": "object", "additionalProperties": False,
                      "properties": {"secretName": _string(), "hosts": {"type": "array", "items": _string()}}}},
                  example=f"- secretName: {name}-tls\n  hosts:\n    - {name}.example.local"),
        )),
        Value("httpRoute", "Gateway API HTTPRoute (needs the Gateway API CRDs and a Gateway in the cluster).",
              children=(
            Value("enabled", "Create an HTTPRoute.", False, _BOOL),
            Value("annotations", "Annotations of the HTTPRoute.", {}, _STRING_MAP),
            Value("parentRefs", "Gateways the route attaches to.", [{"name": "gateway", "sectionName": "http"}],
                  {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["name"]}}),
            Value("hostnames", "Hostnames the route matches.", [f"{name}.example.local"],
                  {"type": "array", "items": _string()}),
            Value("rules", "Routing rules; every rule is sent to the Service.",
                  [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}], _LIST_OF_OBJECTS),
        )),
        Value("resources", "CPU and memory requests and limits of the container.", {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "128Mi"},
        }, _OBJECT),
        Value("livenessProbe", "Liveness probe: the service's /healthz.", {
            "httpGet": {"path": "/healthz", "port": "http"},
            "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 2, "failureThreshold": 3,
        }, _OBJECT),
        Value("readinessProbe", "Readiness probe: the service's /readyz (it turns unready when shutdown starts).", {
            "httpGet": {"path": "/readyz", "port": "http"},
            "initialDelaySeconds": 2, "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 2,
        }, _OBJECT),
        Value("startupProbe", "Startup probe: gives a slow start up to 60 seconds before liveness applies; "
              "{} disables it.", {
                  "httpGet": {"path": "/healthz", "port": "http"},
                  "periodSeconds": 2, "failureThreshold": 30,
              }, _OBJECT),
        Value("autoscaling", "HorizontalPodAutoscaler (autoscaling/v2). When enabled, replicaCount is not rendered.",
              children=(
            Value("enabled", "Create an HPA.", False, _BOOL),
            Value("minReplicas", "Lower bound of replicas.", 2, {"type": "integer", "minimum": 1}),
            Value("maxReplicas", "Upper bound of replicas.", 10, {"type": "integer", "minimum": 1}),
            Value("targetCPUUtilizationPercentage", "Average CPU utilisation to aim for (percent of requests); "
                  "null disables the CPU metric.", 70, {"type": ["integer", "null"], "minimum": 1}),
            Value("targetMemoryUtilizationPercentage", "Average memory utilisation to aim for; null disables "
                  "the memory metric.", None, {"type": ["integer", "null"], "minimum": 1}),
        )),
        Value("strategy", "Deployment update strategy. The default surges one new pod and never drops below "
              "the desired count, so a single replica rolls without downtime.", children=(
            Value("type", "RollingUpdate or Recreate.", "RollingUpdate",
                  {"type": "string", "enum": ["RollingUpdate", "Recreate"]}),
            Value("rollingUpdate", "Rolling update parameters (used with type RollingUpdate).", children=(
                Value("maxSurge", "Pods created above the desired count during an update (number or percent).",
                      1, _INT_OR_PERCENT),
                Value("maxUnavailable", "Pods that may be unavailable during an update (number or percent).",
                      0, _INT_OR_PERCENT),
            )),
        )),
        Value("terminationGracePeriodSeconds", "Seconds Kubernetes waits after SIGTERM before killing the pod. "
              "The service gets SHUTDOWN_TIMEOUT = this minus shutdownDelaySeconds minus 5 seconds (at least 1) "
              "to drain requests.", 30, {"type": "integer", "minimum": 1, "maximum": 3600}),
        Value("shutdownDelaySeconds", "Seconds the service keeps serving after SIGTERM, already unready, before it "
              "drains (SHUTDOWN_DELAY): Kubernetes removes a terminating pod from Service endpoints and ingress "
              "controllers only after it was signalled, so requests still arrive for a moment. Must be less than "
              "terminationGracePeriodSeconds.", 5, {"type": "integer", "minimum": 0, "maximum": 300}),
        Value("config", "Non-secret settings: rendered into a ConfigMap and passed to the container as "
              "environment variables. A change rolls the pods (checksum annotation).", {"LOG_LEVEL": "info"},
              {"type": "object", "propertyNames": {"pattern": _DATA_KEY},
               "additionalProperties": {"type": ["string", "number", "boolean"]}}),
        Value("secret", "Secret settings, passed to the container as environment variables.", children=(
            Value("create", "Render a Secret from secret.data.", False, _BOOL),
            Value("data", "Secret values (plain text here, base64-encoded by the chart). Prefer existingSecret "
                  "in production so secrets never sit in values files.", {},
                  {"type": "object", "propertyNames": {"pattern": _DATA_KEY},
                   "additionalProperties": {"type": "string"}},
                  example="DATABASE_PASSWORD: change-me"),
            Value("existingSecret", "Name of an existing Secret to use instead (takes precedence over create).",
                  "", _string()),
        )),
        Value("env", "Extra environment variables (Kubernetes EnvVar objects).", [],
              {"type": "array", "items": {"type": "object", "required": ["name"]}},
              example="- name: FEATURE_X\n  value: \"on\""),
        Value("extraEnvFrom", "Extra envFrom sources (ConfigMaps or Secrets managed elsewhere).", [],
              _LIST_OF_OBJECTS, example="- secretRef:\n    name: shared-credentials"),
        Value("volumes", "Volumes of the pod. The default /tmp emptyDir keeps the root filesystem read-only.",
              [{"name": "tmp", "emptyDir": {}}], _LIST_OF_OBJECTS),
        Value("volumeMounts", "Volume mounts of the container.", [{"name": "tmp", "mountPath": "/tmp"}],
              _LIST_OF_OBJECTS),
        Value("podDisruptionBudget", "PodDisruptionBudget limiting voluntary evictions. Needs at least two "
              "replicas, or node drains block.", children=(
            Value("enabled", "Create a PodDisruptionBudget.", False, _BOOL),
            Value("minAvailable", "Pods that must stay available (number or percent); ignored when "
                  "maxUnavailable is set.", 1, _INT_OR_PERCENT),
            Value("maxUnavailable", "Pods that may be evicted at once (number or percent); empty means use "
                  "minAvailable.", "", {"anyOf": [{"type": "integer", "minimum": 1},
                                                   {"type": "string", "pattern": "^([0-9]+%)?$"}]}),
        )),
        Value("networkPolicy", "NetworkPolicy: only the service port is reachable.", children=(
            Value("enabled", "Create a NetworkPolicy.", False, _BOOL),
            Value("from", "Peers allowed to reach the service port; empty means any source.", [],
                  _LIST_OF_OBJECTS, example="- namespaceSelector:\n    matchLabels:\n"
                                            "      kubernetes.io/metadata.name: ingress-nginx"),
            Value("egress", "Egress rules; empty means egress is not restricted.", [], _LIST_OF_OBJECTS),
        )),
        Value("serviceMonitor", "Prometheus Operator ServiceMonitor scraping /metrics; rendered only when the "
              "monitoring.coreos.com/v1 API exists in the cluster.", children=(
            Value("enabled", "Create a ServiceMonitor.", False, _BOOL),
            Value("path", "Metrics path.", "/metrics", _string(pattern="^/")),
            Value("interval", "Scrape interval.", "30s", _string(pattern=_DURATION)),
            Value("scrapeTimeout", "Scrape timeout (shorter than the interval).", "10s", _string(pattern=_DURATION)),
            Value("labels", "Extra labels, e.g. the one your Prometheus selects ServiceMonitors by.", {},
                  _STRING_MAP),
        )),
        Value("testConnection", "The `helm test` pod, which fetches /healthz through the Service.", children=(
            Value("image", "An image with wget; mirror it for clusters without access to public registries "
                  "(imagePullSecrets apply to it too).", children=(
                Value("repository", "Image repository, without tag.", "busybox", _string(minLength=1)),
                Value("tag", "Image tag (pinned).", "1.37.0",
                      _string(pattern="^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")),
            )),
        )),
        Value("nodeSelector", "Node labels the pods must run on.", {}, _STRING_MAP),
        Value("tolerations", "Tolerations of the pods.", [], _LIST_OF_OBJECTS),
        Value("affinity", "Affinity rules of the pods.", {}, _OBJECT),
        Value("topologySpreadConstraints", "Topology spread constraints; a constraint without labelSelector "
              "gets the chart's selector labels.", [], _LIST_OF_OBJECTS,
              example="- maxSkew: 1\n  topologyKey: topology.kubernetes.io/zone\n"
                      "  whenUnsatisfiable: ScheduleAnyway"),
    )


# --- values.yaml --------------------------------------------------------------------------

def _comment(text: str, indent: str, width: int = 100) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(indent) + 5 + len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return [f"{indent}# -- {lines[0]}"] + [f"{indent}#    {rest}" for rest in lines[1:]]


def _dump_key(key: str, value: Any, indent: str) -> list[str]:
    text = yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False, width=1000)
    return [f"{indent}{line}" for line in text.rstrip("\n").split("\n")]


def _render_values(spec: tuple[Value, ...], indent: str) -> list[str]:
    out: list[str] = []
    for value in spec:
        if not indent:
            out.append("")
        out.extend(_comment(value.doc, indent))
        if value.is_group:
            out.append(f"{indent}{value.key}:")
            out.extend(_render_values(value.children, indent + "  "))
        else:
            out.extend(_dump_key(value.key, value.default, indent))
            if value.example:
                out.append(f"{indent}  # Example:")
                out.extend(f"{indent}  #   {line}" for line in value.example.split("\n"))
    return out


def render_values_yaml(answers: Answers) -> str:
    """values.yaml with a ``# --`` comment on every key."""
    header = [
        f"# Default values for {answers.name}.",
        "# Generated by chartgen; every key is documented here, in README.md and in values.schema.json.",
        "# Environment profiles override these: values-dev.yaml, values-staging.yaml, values-prod.yaml.",
    ]
    return "\n".join(header + _render_values(values_spec(answers), "")) + "\n"


def defaults(spec: tuple[Value, ...]) -> dict[str, Any]:
    """The values as a plain mapping (what helm sees from values.yaml)."""
    return {v.key: defaults(v.children) if v.is_group else v.default for v in spec}


# --- values.schema.json -------------------------------------------------------------------

def _schema(spec: tuple[Value, ...]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for value in spec:
        if value.is_group:
            node = {"description": value.doc, **_schema(value.children)}
        else:
            node = {"description": value.doc, **value.schema}
        props[value.key] = node
    return {"type": "object", "additionalProperties": False, "properties": props}


def render_values_schema(answers: Answers) -> str:
    """values.schema.json (JSON Schema draft-07) for the chart."""
    body = _schema(values_spec(answers))
    body["properties"]["global"] = {"description": "Values shared with parent and sibling charts.",
                                    "type": "object"}
    # Helm hands each subchart's values to this chart under the subchart's name, so unknown
    # top-level keys must stay possible, but only as objects: a misspelt scalar is still refused.
    body["additionalProperties"] = {"type": "object", "description": "Values of a subchart (dependency)."}
    schema = {"$schema": DRAFT_07, "title": f"Values of the {answers.name} chart", **body}
    return json.dumps(schema, indent=2) + "\n"


# --- README values table ------------------------------------------------------------------

def iter_leaves(spec: tuple[Value, ...], prefix: str = "") -> Iterator[tuple[str, Value]]:
    """Every leaf value with its dotted key, in values.yaml order."""
    for value in spec:
        key = f"{prefix}{value.key}"
        if value.is_group:
            yield from iter_leaves(value.children, key + ".")
        else:
            yield key, value


def _type_name(schema: Mapping[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_type_name(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if "enum" in schema:
        return " \\| ".join(f"`{e}`" for e in schema["enum"])
    return str(kind)


def render_values_table(answers: Answers) -> str:
    """The Markdown values table of the README."""
    rows = ["| Key | Type | Default | Description |", "|-----|------|---------|-------------|"]
    for key, value in iter_leaves(values_spec(answers)):
        default = json.dumps(value.default, separators=(",", ":"))
        doc = value.doc.replace("|", "\\|")
        rows.append(f"| `{key}` | {_type_name(value.schema)} | `{default}` | {doc} |")
    return "\n".join(rows) + "\n"
