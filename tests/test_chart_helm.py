"""The generated chart against real helm 3 and helm 4, and the Kubernetes schemas."""

from __future__ import annotations

import re
from pathlib import Path

import kubernetes_validate
import pytest

from tests.helmutil import MONITORING_API, by_kind, helm_run, profile_args, template

pytestmark = pytest.mark.helm

PROFILES = ["default", "dev", "staging", "prod", "all-on"]
# Kinds the bundled Kubernetes schemas cannot know (CRDs); everything else must validate.
CRD_KINDS = {"HTTPRoute", "ServiceMonitor"}


@pytest.mark.parametrize("profile", PROFILES)
def test_lint_strict_passes(helm: str, hello_chart: Path, profile: str, tmp_path: Path) -> None:
    # helm lint has no --api-versions: the ServiceMonitor is linted as values only (the capability
    # gate skips it); test_rendered_manifests_validate_strictly renders it with --api-versions.
    args = profile_args(hello_chart, profile, tmp_path, lint=True)
    proc = helm_run(helm, "lint", "--strict", str(hello_chart), *args)
    assert "1 chart(s) linted, 0 chart(s) failed" in proc.stdout
    assert not re.search(r"\[(WARNING|ERROR)\]", proc.stdout + proc.stderr), proc.stdout


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kube_version", ["1.29", "1.34"])
def test_rendered_manifests_validate_strictly(helm: str, hello_chart: Path, profile: str, kube_version: str,
                                              tmp_path: Path) -> None:
    docs = template(helm, hello_chart, "--kube-version", kube_version,
                    *profile_args(hello_chart, profile, tmp_path))
    validated = 0
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, kube_version, strict=True)
            validated += 1
        except kubernetes_validate.SchemaNotFoundError:
            assert doc["kind"] in CRD_KINDS, f"no schema for {doc['kind']}"
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {exc.message}")
    assert validated >= 5  # ServiceAccount, ConfigMap, Service, Deployment, test Pod at least


def test_validation_catches_a_broken_manifest(helm4: str, hello_chart: Path) -> None:
    """The validator used above is not vacuous: a string containerPort and a typo fail."""
    [deployment] = by_kind(template(helm4, hello_chart), "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["ports"][0]["containerPort"] = "8080"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.34", strict=True)
    container["ports"][0]["containerPort"] = 8080
    container["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.34", strict=True)


def test_all_on_renders_every_part(helm: str, hello_chart: Path, tmp_path: Path) -> None:
    docs = template(helm, hello_chart, *profile_args(hello_chart, "all-on", tmp_path))
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(["ServiceAccount", "ConfigMap", "Secret", "Service", "Deployment", "Ingress",
                            "HTTPRoute", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
                            "ServiceMonitor", "Pod"])
    [secret] = by_kind(docs, "Secret")
    assert secret["data"] == {"DATABASE_PASSWORD": "bm90LWEtcmVhbC1zZWNyZXQ="}
    [configmap] = by_kind(docs, "ConfigMap")
    assert configmap["data"] == {"LOG_LEVEL": "debug", "FEATURE_FLAG": "true", "MAX_ITEMS": "10"}
    [deployment] = by_kind(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    env_from = pod["containers"][0]["envFrom"]
    assert {"configMapRef": {"name": "rel-hello-go"}} in env_from
    assert {"secretRef": {"name": "rel-hello-go"}} in env_from
    [spread] = pod["topologySpreadConstraints"]
    assert spread["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    [service] = by_kind(docs, "Service")
    assert service["spec"]["ports"][0]["nodePort"] == 30080


def test_default_deployment_is_production_minded(helm: str, hello_chart: Path) -> None:
    docs = template(helm, hello_chart)
    assert sorted(d["kind"] for d in docs) == ["ConfigMap", "Deployment", "Pod", "Service", "ServiceAccount"]
    [deployment] = by_kind(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["image"] == "registry.example.com/acme/hello-go:1.0.0"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env == {"PORT": "8080", "SHUTDOWN_DELAY": "5s", "SHUTDOWN_TIMEOUT": "20s"}
    assert pod["terminationGracePeriodSeconds"] == 30
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert set(annotations) == {"checksum/config", "checksum/secret"}


def test_config_change_changes_checksum(helm: str, hello_chart: Path) -> None:
    def annotations(*args: str) -> dict[str, str]:
        [deployment] = by_kind(template(helm, hello_chart, *args), "Deployment")
        return deployment["spec"]["template"]["metadata"]["annotations"]

    base = annotations()
    changed = annotations("--set", "config.LOG_LEVEL=debug")
    assert changed["checksum/config"] != base["checksum/config"]
    assert changed["checksum/secret"] == base["checksum/secret"]
    secret = annotations("--set", "secret.create=true", "--set", "secret.data.TOKEN=abc")
    assert secret["checksum/secret"] != base["checksum/secret"]
    assert annotations() == base  # deterministic


def test_autoscaling_removes_replicas(helm: str, hello_chart: Path) -> None:
    docs = template(helm, hello_chart, "--set", "autoscaling.enabled=true", "--set", "replicaCount=5")
    [deployment] = by_kind(docs, "Deployment")
    assert "replicas" not in deployment["spec"]
    [hpa] = by_kind(docs, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["minReplicas"] == 2 and hpa["spec"]["maxReplicas"] == 10
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70


def test_service_monitor_needs_the_monitoring_api(helm: str, hello_chart: Path) -> None:
    assert not by_kind(template(helm, hello_chart, "--set", "serviceMonitor.enabled=true"), "ServiceMonitor")
    docs = template(helm, hello_chart, "--set", "serviceMonitor.enabled=true", "--api-versions", MONITORING_API)
    [monitor] = by_kind(docs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def test_existing_secret_wins(helm: str, hello_chart: Path) -> None:
    docs = template(helm, hello_chart, "--set", "secret.create=true", "--set", "secret.existingSecret=ops-managed")
    assert not by_kind(docs, "Secret")
    [deployment] = by_kind(docs, "Deployment")
    assert {"secretRef": {"name": "ops-managed"}} in deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]


# (--set arguments, the field the error must name)
BAD_VALUES = [
    (["--set", "replicaCount=-1"], r"replicaCount"),
    (["--set", "service.port=99999"], r"service[./]port"),
    (["--set", "containerPort=0"], r"containerPort"),
    (["--set", "image.pullPolicy=Sometimes"], r"image[./]pullPolicy"),
    (["--set", "service.type=ExternalName"], r"service[./]type"),
    (["--set", "replicaCount=many"], r"replicaCount"),
    (["--set", "ingress.enabled=yes"], r"ingress[./]enabled"),
    (["--set-string", "containerPort=8080"], r"containerPort"),
    (["--set", "autoscaling.minReplicas=0"], r"autoscaling[./]minReplicas"),
    (["--set", "strategy.rollingUpdate.maxSurge=lots"], r"maxSurge"),
    (["--set", "replicaCont=3"], r"replicaCont"),
    (["--set", "image.tagg=1.0"], r"tagg"),
]


@pytest.mark.parametrize(("args", "field"), BAD_VALUES, ids=[a[1] for a, _ in BAD_VALUES])
def test_schema_rejects_bad_values(helm: str, hello_chart: Path, args: list[str], field: str) -> None:
    proc = helm_run(helm, "template", "rel", str(hello_chart), *args, check=False)
    assert proc.returncode != 0
    assert "schema" in proc.stderr.lower() or "values don't meet" in proc.stderr.lower()
    assert re.search(field, proc.stderr), proc.stderr


@pytest.mark.parametrize(("args", "delay", "timeout"), [
    ([], "5s", "20s"), (["--set", "shutdownDelaySeconds=0"], "0s", "25s"),
    (["--set", "terminationGracePeriodSeconds=8"], "5s", "1s"), (["--set", "shutdownDelaySeconds=12"], "12s", "13s")])
def test_shutdown_delay_and_drain_fit_in_the_grace_period(helm: str, hello_chart: Path, args: list[str], delay: str,
                                                          timeout: str) -> None:
    [deployment] = by_kind(template(helm, hello_chart, *args), "Deployment")
    env = {e["name"]: e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (env["SHUTDOWN_DELAY"], env["SHUTDOWN_TIMEOUT"]) == (delay, timeout)


def test_test_pod_image_and_pull_secrets_are_values(helm: str, hello_chart: Path) -> None:
    [pod] = by_kind(template(helm, hello_chart), "Pod")
    assert pod["spec"]["containers"][0]["image"] == "busybox:1.37.0"
    assert "imagePullSecrets" not in pod["spec"]
    [pod] = by_kind(template(helm, hello_chart, "--set", "testConnection.image.repository=mirror.example.com/busybox",
                             "--set", "imagePullSecrets[0].name=regcred"), "Pod")
    assert pod["spec"]["containers"][0]["image"] == "mirror.example.com/busybox:1.37.0"
    assert pod["spec"]["imagePullSecrets"] == [{"name": "regcred"}]


def test_shutdown_delay_longer_than_the_grace_period_is_refused(helm: str, hello_chart: Path) -> None:
    proc = helm_run(helm, "template", "rel", str(hello_chart), "--set", "shutdownDelaySeconds=30", check=False)
    assert proc.returncode != 0
    assert "shutdownDelaySeconds (30) must be less than terminationGracePeriodSeconds (30)" in proc.stderr


def test_oldest_supported_kubernetes_renders(helm: str, hello_chart: Path, tmp_path: Path) -> None:
    docs = template(helm, hello_chart, "--kube-version", "1.25.0", *profile_args(hello_chart, "prod", tmp_path))
    assert by_kind(docs, "PodDisruptionBudget")[0]["apiVersion"] == "policy/v1"
    proc = helm_run(helm, "template", "rel", str(hello_chart), "--kube-version", "1.24.0", check=False)
    assert proc.returncode != 0 and "kubeVersion" in proc.stderr
