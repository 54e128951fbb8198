"""A local Kubernetes control plane for the end-to-end tests: etcd, kube-apiserver and
kube-controller-manager on 127.0.0.1, no containers, no nodes (pods stay Pending; objects are real).

etcd comes from Debian's etcd-server; the Kubernetes binaries are built once from the Go module
proxy by scripts/install_kube.py into $CHARTGEN_CACHE/kube/vX.Y.Z.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from install_kube import COMMANDS, VERSION, cache_dir  # noqa: E402

ETCD = "/usr/bin/etcd"


@dataclass
class ControlPlane:
    kubeconfig: Path
    server: str
    token: str
    version: str

    def get(self, path: str) -> dict:
        response = requests.get(self.server + path, headers={"Authorization": f"Bearer {self.token}"},
                                verify=False, timeout=10)
        response.raise_for_status()
        return response.json()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        proc.terminate()
    for proc in reversed(procs):
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _keypair(work: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = work / "sa.key", work / "sa.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


@contextlib.contextmanager
def control_plane(work: Path) -> Iterator[ControlPlane]:
    binaries = cache_dir(VERSION)
    missing = [c for c in COMMANDS if not (binaries / c).is_file()]
    if missing or not Path(ETCD).is_file():
        pytest.fail(f"control plane binaries missing ({', '.join(missing) or ETCD}): run `make e2e-tools`")
    work.mkdir(parents=True, exist_ok=True)
    etcd_port, peer_port, api_port = _free_port(), _free_port(), _free_port()
    token = secrets.token_hex(16)
    (work / "tokens.csv").write_text(f"{token},admin,admin,system:masters\n")
    sa_key, sa_pub = _keypair(work)
    procs: list[subprocess.Popen] = []
    logs = []

    def start(name: str, argv: list[str]) -> subprocess.Popen:
        log = (work / f"{name}.log").open("w")
        logs.append(log)
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    try:
        start("etcd", [ETCD, "--data-dir", str(work / "etcd"), "--name", "chartgen",
                       "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
                       "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
                       "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
                       "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
                       "--initial-cluster", f"chartgen=http://127.0.0.1:{peer_port}"])
        apiserver = start("kube-apiserver", [
            str(binaries / "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={api_port}",
            f"--cert-dir={work / 'certs'}", f"--token-auth-file={work / 'tokens.csv'}",
            "--authorization-mode=RBAC", "--service-cluster-ip-range=10.96.0.0/24",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={sa_pub}", f"--service-account-signing-key-file={sa_key}",
            "--enable-priority-and-fairness=false", "--profiling=false"])
        server = f"https://127.0.0.1:{api_port}"
        for _ in range(600):  # bounded: at most about 60 s
            if apiserver.poll() is not None:
                raise RuntimeError(f"kube-apiserver exited: {(work / 'kube-apiserver.log').read_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{server}/readyz", headers={"Authorization": f"Bearer {token}"}, verify=False,
                                timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("kube-apiserver did not become ready")
        kubeconfig = work / "kubeconfig"
        kubeconfig.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: {server}
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: {token}
contexts:
- name: local
  context:
    cluster: local
    user: admin
current-context: local
""")
        kubeconfig.chmod(0o600)
        start("kube-controller-manager", [
            str(binaries / "kube-controller-manager"), f"--kubeconfig={kubeconfig}", "--leader-elect=false",
            "--controllers=deployment-controller,replicaset-controller,serviceaccount-controller,"
            "namespace-controller,garbage-collector-controller", "--bind-address=127.0.0.1", "--secure-port=0",
            f"--service-account-private-key-file={sa_key}", "--use-service-account-credentials=false"])
        version = requests.get(f"{server}/version", headers={"Authorization": f"Bearer {token}"}, verify=False,
                               timeout=5).json()["gitVersion"]
        yield ControlPlane(kubeconfig, server, token, version)
    finally:
        _stop(procs)
        for log in logs:
            log.close()
        shutil.rmtree(work / "etcd", ignore_errors=True)


def helm_env(work: Path, kubeconfig: Path) -> dict[str, str]:
    return {**os.environ, "KUBECONFIG": str(kubeconfig), "HELM_CONFIG_HOME": str(work / "hc"),
            "HELM_CACHE_HOME": str(work / "hk"), "HELM_DATA_HOME": str(work / "hd")}
