"""Install the generated chart on a real Kubernetes API server with helm 3 and helm 4 (make test-e2e)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import urllib3
import yaml

from chartgen import create_chart
from tests.helmutil import ALL_ON
from tests.kube import ControlPlane, control_plane, helm_env

pytestmark = pytest.mark.e2e
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

# Minimal CRDs so that the optional HTTPRoute and ServiceMonitor can be installed too.
CRDS = [("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes"),
        ("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    work = tmp_path_factory.mktemp("kube")
    started = time.monotonic()
    with control_plane(work) as plane:
        for group, version, kind, plural in CRDS:
            metadata: dict = {"name": f"{plural}.{group}"}
            if group.endswith(".k8s.io"):  # protected groups carry the approval annotation (as Gateway API's do)
                metadata["annotations"] = {"api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api"}
            crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                   "metadata": metadata,
                   "spec": {"group": group, "scope": "Namespaced",
                            "names": {"kind": kind, "plural": plural, "singular": kind.lower(),
                                      "listKind": f"{kind}List"},
                            "versions": [{"name": version, "served": True, "storage": True, "schema": {
                                "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
            requests.post(f"{plane.server}/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd,
                          headers={"Authorization": f"Bearer {plane.token}"}, verify=False, timeout=10
                          ).raise_for_status()
        for _ in range(100):  # bounded: the CRDs become served
            if all(requests.get(f"{plane.server}/apis/{g}/{v}", headers={"Authorization": f"Bearer {plane.token}"},
                                verify=False, timeout=5).status_code == 200 for g, v, _k, _p in CRDS):
                break
            time.sleep(0.1)
        print(f"\nkube-apiserver {plane.version} ready in {time.monotonic() - started:.1f} s")
        yield plane


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chart")
    return Path(create_chart("hello-go", out, image_repository="registry.example.com/acme/hello-go",
                             app_version="1.0.0").path)


def run_helm(binary: str, cluster: ControlPlane, work: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run([binary, *args], capture_output=True, text=True, env=helm_env(work, cluster.kubeconfig),
                          timeout=180, check=False)
    if check:
        assert proc.returncode == 0, f"helm {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def get(cluster: ControlPlane, path: str) -> dict | None:
    response = requests.get(cluster.server + path, headers={"Authorization": f"Bearer {cluster.token}"},
                            verify=False, timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


def profile_args(chart: Path, profile: str, work: Path) -> list[str]:
    if profile == "all-on":
        values = work / "all-on.yaml"
        values.write_text(yaml.safe_dump(ALL_ON))
        return ["-f", str(values)]
    return ["-f", str(chart / f"values-{profile}.yaml")]


@pytest.mark.parametrize("profile", ["dev", "staging", "prod", "all-on"])
def test_install_upgrade_rollback_uninstall(helm: str, cluster: ControlPlane, chart: Path, profile: str,
                                            tmp_path: Path) -> None:
    ns = f"{profile}-{Path(helm).name}"
    args = profile_args(chart, profile, tmp_path)
    # --dry-run=server: validated by the API server, nothing stored.
    run_helm(helm, cluster, tmp_path, "install", "rel", str(chart), "-n", ns, "--create-namespace", *args,
         "--dry-run=server")
    assert get(cluster, f"/apis/apps/v1/namespaces/{ns}/deployments/rel-hello-go") is None
    run_helm(helm, cluster, tmp_path, "install", "rel", str(chart), "-n", ns, "--create-namespace", *args)
    deployment = get(cluster, f"/apis/apps/v1/namespaces/{ns}/deployments/rel-hello-go")
    assert deployment is not None
    manifest = list(yaml.safe_load_all(run_helm(helm, cluster, tmp_path, "get", "manifest", "rel", "-n", ns)))
    [rendered] = [d for d in manifest if d and d["kind"] == "Deployment"]
    service = get(cluster, f"/api/v1/namespaces/{ns}/services/rel-hello-go")
    assert service["spec"]["ports"][0]["port"] == 80 and service["spec"]["ports"][0]["targetPort"] == "http"
    hpa = get(cluster, f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/rel-hello-go")
    if profile in ("prod", "all-on"):
        assert "replicas" not in rendered["spec"], "replicas must be left to the HPA"
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
        assert get(cluster, f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/rel-hello-go") is not None
        policy = get(cluster, f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/rel-hello-go")
        assert policy["spec"]["ingress"][0]["ports"][0]["port"] == "http"
    else:
        assert hpa is None and deployment["spec"]["replicas"] == (1 if profile == "dev" else 2)
    ingress = get(cluster, f"/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses/rel-hello-go")
    if profile in ("staging", "prod", "all-on"):
        rule = ingress["spec"]["rules"][0]
        assert rule["http"]["paths"][0]["backend"]["service"]["name"] == "rel-hello-go"
    else:
        assert ingress is None
    configmap = get(cluster, f"/api/v1/namespaces/{ns}/configmaps/rel-hello-go")
    assert configmap["data"]["LOG_LEVEL"] in ("debug", "info", "warn")
    if profile == "all-on":
        secret = get(cluster, f"/api/v1/namespaces/{ns}/secrets/rel-hello-go")
        assert secret["data"] == {"DATABASE_PASSWORD": "bm90LWEtcmVhbC1zZWNyZXQ="}
        assert get(cluster, f"/apis/monitoring.coreos.com/v1/namespaces/{ns}/servicemonitors/rel-hello-go")
        assert get(cluster, f"/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/httproutes/rel-hello-go")
    checksum = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    # upgrade with a config change: new checksum, new revision, a second ReplicaSet
    run_helm(helm, cluster, tmp_path, "upgrade", "rel", str(chart), "-n", ns, *args, "--set", "config.LOG_LEVEL=error")
    upgraded = get(cluster, f"/apis/apps/v1/namespaces/{ns}/deployments/rel-hello-go")
    assert upgraded["spec"]["template"]["metadata"]["annotations"]["checksum/config"] != checksum
    history = json.loads(run_helm(helm, cluster, tmp_path, "history", "rel", "-n", ns, "-o", "json"))
    assert [h["revision"] for h in history] == [1, 2]
    for _ in range(200):  # bounded: the deployment controller creates the new ReplicaSet
        sets = get(cluster, f"/apis/apps/v1/namespaces/{ns}/replicasets")["items"]
        if len(sets) >= 2:
            break
        time.sleep(0.1)
    assert len(sets) >= 2, "the deployment controller did not roll out a new ReplicaSet"

    run_helm(helm, cluster, tmp_path, "rollback", "rel", "1", "-n", ns)
    rolled = get(cluster, f"/apis/apps/v1/namespaces/{ns}/deployments/rel-hello-go")
    assert rolled["spec"]["template"]["metadata"]["annotations"]["checksum/config"] == checksum
    run_helm(helm, cluster, tmp_path, "uninstall", "rel", "-n", ns)
    assert get(cluster, f"/apis/apps/v1/namespaces/{ns}/deployments/rel-hello-go") is None
    assert get(cluster, f"/api/v1/namespaces/{ns}/services/rel-hello-go") is None


def test_schema_rejects_bad_values_on_install(helm: str, cluster: ControlPlane, chart: Path, tmp_path: Path) -> None:
    out = run_helm(helm, cluster, tmp_path, "install", "bad", str(chart), "-n", f"bad-{Path(helm).name}",
               "--create-namespace", "--set", "replicaCount=-3", check=False)
    assert "replicaCount" in out
    assert get(cluster, f"/apis/apps/v1/namespaces/bad-{Path(helm).name}/deployments/bad-hello-go") is None
