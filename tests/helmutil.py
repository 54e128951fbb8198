"""Helpers for tests that run the real helm binaries."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

# Every optional part switched on at once (ServiceMonitor also needs --api-versions).
ALL_ON: dict[str, Any] = {
    "ingress": {"enabled": True, "className": "nginx",
                "tls": [{"secretName": "hello-tls", "hosts": ["hello-go.example.local"]}]},
    "httpRoute": {"enabled": True},
    "autoscaling": {"enabled": True, "targetMemoryUtilizationPercentage": 80},
    "podDisruptionBudget": {"enabled": True},
    "networkPolicy": {"enabled": True, "from": [{"podSelector": {}}], "egress": [{}]},
    "serviceMonitor": {"enabled": True},
    "serviceAccount": {"create": True},
    "config": {"LOG_LEVEL": "debug", "FEATURE_FLAG": True, "MAX_ITEMS": 10},
    "secret": {"create": True, "data": {"DATABASE_PASSWORD": "not-a-real-secret"}},
    "service": {"type": "NodePort", "nodePort": 30080},
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                   "whenUnsatisfiable": "DoNotSchedule"}],
}
MONITORING_API = "monitoring.coreos.com/v1"


def profile_args(chart: Path, profile: str, tmp: Path, *, lint: bool = False) -> list[str]:
    """helm arguments selecting a profile: default, dev, staging, prod or all-on (lint: no --api-versions)."""
    if profile == "default":
        return []
    if profile == "all-on":
        values = tmp / "all-on.yaml"
        values.write_text(yaml.safe_dump(ALL_ON))
        return ["-f", str(values)] if lint else ["-f", str(values), "--api-versions", MONITORING_API]
    return ["-f", str(chart / f"values-{profile}.yaml")]


def helm_run(helm: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([helm, *args], capture_output=True, text=True, timeout=120, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def template(helm: str, chart: Path, *args: str) -> list[dict[str, Any]]:
    out = helm_run(helm, "template", "rel", str(chart), *args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]
