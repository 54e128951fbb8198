"""`chartgen publish` to a real OCI registry (Debian's docker-registry): plain HTTP, basic auth,
TLS from a private CA and the Bearer token flow; helm 3 and helm 4 pull what chartgen pushed."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartgen.archive import package_chart
from tests.conftest import ROOT
from tests.servers import (
    Registry,
    TokenIssuer,
    htpasswd,
    loopback_name,
    make_tls,
    run_registry,
    run_token_issuer,
)

pytestmark = pytest.mark.helm

USER, PASSWORD = "release-bot", "s3cret-Pa55word-not-to-leak"


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with run_registry(tmp_path_factory.mktemp("plain")) as registry:
        yield registry


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    work = tmp_path_factory.mktemp("basic")
    users = htpasswd(work / "htpasswd", USER, PASSWORD)
    with run_registry(work, auth=f"  htpasswd:\n    realm: chartgen-test\n    path: {users}\n") as registry:
        yield registry


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, Path]]:
    work = tmp_path_factory.mktemp("tls")
    name = loopback_name()
    tls = make_tls(work, [name])
    with run_registry(work, tls=tls, host=name) as registry:
        yield registry, tls.ca_file


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, TokenIssuer]]:
    work = tmp_path_factory.mktemp("token")
    with run_token_issuer(work, {USER: PASSWORD}) as issuer:
        auth = (f"  token:\n    realm: {issuer.url}\n    service: {issuer.service}\n    issuer: {issuer.issuer}\n"
                f"    rootcertbundle: {issuer.cert_file}\n")
        with run_registry(work, auth=auth) as registry:
            yield registry, issuer


@pytest.fixture
def archive(hello_chart: Path, tmp_path: Path) -> Path:
    return Path(package_chart(hello_chart, tmp_path / "dist").path)


def changed_archive(hello_chart: Path, tmp_path: Path) -> Path:
    """Same name and version as ``archive``, other content."""
    chart = tmp_path / "changed" / "hello-go"
    shutil.copytree(hello_chart, chart)
    (chart / "values.yaml").write_text((chart / "values.yaml").read_text() + "# a change\n")
    return Path(package_chart(chart, tmp_path / "changed-dist").path)


def chartgen(*args: str, env: dict[str, str] | None = None, stdin: str | None = None
             ) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess (stdin and environment as a release job has them)."""
    return subprocess.run([sys.executable, "-m", "chartgen", *args], capture_output=True, text=True, input=stdin,
                          env={**clean_env(), **(env or {})}, cwd=ROOT, timeout=120, check=False)


def clean_env() -> dict[str, str]:
    """The environment without credentials a developer may have (they would change the outcome)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTGEN_", "DOCKER_CONFIG", "HELM_"))}
    env["HOME"] = os.environ.get("CHARTGEN_TEST_HOME", env.get("HOME", "/root"))
    return env


def helm_env(tmp_path: Path) -> dict[str, str]:
    return {**clean_env(), "HELM_REGISTRY_CONFIG": str(tmp_path / "helm-registry.json"),
            "HELM_CACHE_HOME": str(tmp_path / "helm-cache"), "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
            "DOCKER_CONFIG": str(tmp_path / "no-docker")}


def helm_ok(helm: str, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run([helm, *args], capture_output=True, text=True, env=env, input=stdin, timeout=120,
                          check=False)
    assert proc.returncode == 0, f"helm {' '.join(args)}: {proc.stderr}"
    return proc.stdout + proc.stderr


def no_secret(*outputs: str) -> None:
    for output in outputs:
        assert PASSWORD not in output
        assert base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in output


def test_plain_http_push_pull_and_same_manifest_as_helm(helm: str, plain: Registry, archive: Path,
                                                         tmp_path: Path) -> None:
    repo = f"oci://{plain.address}/{Path(helm).name}/charts"
    result = chartgen("-o", "json", "publish", str(archive), "--repo", repo, "--plain-http")
    assert result.returncode == 0, result.stderr
    [pushed] = json.loads(result.stdout)["results"]
    assert pushed["outcome"] == "pushed" and pushed["reference"] == f"{repo}/hello-go:0.1.0"
    env = helm_env(tmp_path)
    (tmp_path / "pulled").mkdir()
    out = helm_ok(helm, env, "pull", f"{repo}/hello-go", "--version", "0.1.0", "-d", str(tmp_path / "pulled"),
                  "--plain-http")
    assert (tmp_path / "pulled" / "hello-go-0.1.0.tgz").read_bytes() == archive.read_bytes()
    assert pushed["manifest_digest"] in out
    shown = helm_ok(helm, env, "show", "chart", f"{repo}/hello-go", "--version", "0.1.0", "--plain-http")
    assert "name: hello-go" in shown and "appVersion: 1.0.0" in shown
    # helm pushing the very same file produces the very same manifest.
    helm_out = helm_ok(helm, env, "push", str(archive), f"oci://{plain.address}/by-helm-{Path(helm).name}",
                       "--plain-http")
    assert pushed["manifest_digest"] in helm_out


def test_republish_skips_and_changed_content_is_refused(plain: Registry, archive: Path, hello_chart: Path,
                                                        tmp_path: Path, helm4: str) -> None:
    repo = f"oci://{plain.address}/idempotent"
    assert chartgen("publish", str(archive), "--repo", repo, "--plain-http").returncode == 0
    again = chartgen("publish", str(archive), "--repo", repo, "--plain-http")
    assert again.returncode == 0 and again.stdout.startswith("skipped ")
    other = changed_archive(hello_chart, tmp_path)
    refused = chartgen("publish", str(other), "--repo", repo, "--plain-http")
    assert refused.returncode == 1
    assert refused.stdout.startswith("refused ") and "already exists with another digest" in refused.stderr
    assert "--force" in refused.stderr
    skipped = chartgen("publish", str(other), "--repo", repo, "--plain-http", "--skip-existing")
    assert skipped.returncode == 0 and skipped.stdout.startswith("skipped ")
    forced = chartgen("publish", str(other), "--repo", repo, "--plain-http", "--force")
    assert forced.returncode == 0 and forced.stdout.startswith("pushed ")
    (tmp_path / "pulled").mkdir()
    helm_ok(helm4, helm_env(tmp_path), "pull", f"{repo}/hello-go", "--version", "0.1.0", "-d",
            str(tmp_path / "pulled"), "--plain-http")
    assert (tmp_path / "pulled" / "hello-go-0.1.0.tgz").read_bytes() == other.read_bytes()


def test_basic_auth(helm: str, basic: Registry, archive: Path, tmp_path: Path) -> None:
    repo = f"oci://{basic.address}/{Path(helm).name}"
    anonymous = chartgen("publish", str(archive), "--repo", repo, "--plain-http")
    assert anonymous.returncode == 1 and "needs credentials" in anonymous.stderr
    wrong = chartgen("publish", str(archive), "--repo", repo, "--plain-http", "--username", USER, "--password-stdin",
                     stdin="wrong-password\n")
    assert wrong.returncode == 1 and "access denied as release-bot" in wrong.stderr
    assert basic.address in wrong.stderr and "repository:" in wrong.stderr
    no_tty = chartgen("publish", str(archive), "--repo", repo, "--plain-http", "--username", USER)
    assert no_tty.returncode == 2 and "no prompt without a terminal" in no_tty.stderr
    ok = chartgen("publish", str(archive), "--repo", repo, "--plain-http", "--username", USER, "--password-stdin",
                  stdin=PASSWORD + "\n")
    assert ok.returncode == 0 and ok.stdout.startswith("pushed "), ok.stderr
    from_env = chartgen("publish", str(archive), "--repo", repo, "--plain-http",
                        env={"CHARTGEN_USERNAME": USER, "CHARTGEN_PASSWORD": PASSWORD})
    assert from_env.returncode == 0 and from_env.stdout.startswith("skipped ")
    # helm registry login writes helm's registry config; chartgen reads it (never writes it).
    env = helm_env(tmp_path)
    helm_ok(helm, env, "registry", "login", basic.address, "--username", USER, "--password-stdin", "--plain-http",
            stdin=PASSWORD) if Path(helm).name == "helm4" else helm_ok(
        helm, env, "registry", "login", basic.address, "--username", USER, "--password-stdin", "--insecure",
        stdin=PASSWORD)
    config_before = Path(env["HELM_REGISTRY_CONFIG"]).read_bytes()
    from_helm = chartgen("publish", str(archive), "--repo", repo, "--plain-http",
                         env={"HELM_REGISTRY_CONFIG": env["HELM_REGISTRY_CONFIG"]})
    assert from_helm.returncode == 0 and from_helm.stdout.startswith("skipped "), from_helm.stderr
    assert Path(env["HELM_REGISTRY_CONFIG"]).read_bytes() == config_before
    docker = tmp_path / "docker"
    docker.mkdir()
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (docker / "config.json").write_text(json.dumps({"auths": {f"http://{basic.address}": {"auth": auth}}}))
    from_docker = chartgen("publish", str(archive), "--repo", repo, "--plain-http",
                           env={"DOCKER_CONFIG": str(docker)})
    assert from_docker.returncode == 0 and from_docker.stdout.startswith("skipped "), from_docker.stderr
    (tmp_path / "pulled").mkdir()
    helm_ok(helm, env, "pull", f"{repo}/hello-go", "--version", "0.1.0", "-d", str(tmp_path / "pulled"),
            "--plain-http")
    assert (tmp_path / "pulled" / "hello-go-0.1.0.tgz").read_bytes() == archive.read_bytes()
    no_secret(*(p.stdout + p.stderr for p in (anonymous, wrong, no_tty, ok, from_env, from_helm, from_docker)))


def test_tls_with_private_ca(helm: str, tls_registry: tuple[Registry, Path], archive: Path, tmp_path: Path) -> None:
    registry, ca = tls_registry
    repo = f"oci://{registry.address}/{Path(helm).name}"
    untrusted = chartgen("publish", str(archive), "--repo", repo)
    assert untrusted.returncode == 1 and "TLS error" in untrusted.stderr and "--ca-file" in untrusted.stderr
    trusted = chartgen("publish", str(archive), "--repo", repo, "--ca-file", str(ca))
    assert trusted.returncode == 0 and trusted.stdout.startswith("pushed "), trusted.stderr
    insecure = chartgen("publish", str(archive), "--repo", repo, "--insecure-skip-tls-verify")
    assert insecure.returncode == 0 and insecure.stdout.startswith("skipped ")
    (tmp_path / "pulled").mkdir()
    helm_ok(helm, helm_env(tmp_path), "pull", f"{repo}/hello-go", "--version", "0.1.0", "-d",
            str(tmp_path / "pulled"), "--ca-file", str(ca))
    assert (tmp_path / "pulled" / "hello-go-0.1.0.tgz").read_bytes() == archive.read_bytes()


def test_bearer_token_flow(helm: str, token: tuple[Registry, TokenIssuer], archive: Path, tmp_path: Path) -> None:
    registry, issuer = token
    repo = f"oci://{registry.address}/{Path(helm).name}/team"
    anonymous = chartgen("publish", str(archive), "--repo", repo, "--plain-http")
    assert anonymous.returncode == 1 and "token service refused" in anonymous.stderr
    wrong = chartgen("publish", str(archive), "--repo", repo, "--plain-http",
                     env={"CHARTGEN_USERNAME": USER, "CHARTGEN_PASSWORD": "nope"})
    assert wrong.returncode == 1 and "token service refused" in wrong.stderr
    ok = chartgen("publish", str(archive), "--repo", repo, "--plain-http",
                  env={"CHARTGEN_USERNAME": USER, "CHARTGEN_PASSWORD": PASSWORD})
    assert ok.returncode == 0 and ok.stdout.startswith("pushed "), ok.stderr
    assert {"service": issuer.service, "scope": f"repository:{Path(helm).name}/team/hello-go:pull,push"} in \
        issuer.requests
    env = helm_env(tmp_path)
    login = ["registry", "login", registry.address, "--username", USER, "--password-stdin"]
    helm_ok(helm, env, *login, "--plain-http" if Path(helm).name == "helm4" else "--insecure", stdin=PASSWORD)
    (tmp_path / "pulled").mkdir()
    helm_ok(helm, env, "pull", f"{repo}/hello-go", "--version", "0.1.0", "-d", str(tmp_path / "pulled"),
            "--plain-http")
    assert (tmp_path / "pulled" / "hello-go-0.1.0.tgz").read_bytes() == archive.read_bytes()
    no_secret(*(p.stdout + p.stderr for p in (anonymous, wrong, ok)))
