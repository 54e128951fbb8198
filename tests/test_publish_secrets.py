"""No password, basic-auth header or registry token ever appears in chartgen's output, on any publish
path, in success or failure, in text or JSON, verbose or not."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from chartgen.archive import package_chart
from tests.conftest import ROOT
from tests.servers import htpasswd, run_registry, run_token_issuer, run_webdav

USER, PASSWORD = "ci-bot", "Top-Secret-Passw0rd-123"
FORBIDDEN = [PASSWORD, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(), "Bearer ey", "eyJ0eXAi"]


def run(archive: Path, repo: str, *extra: str, password: str = PASSWORD, env_creds: bool = False,
        json_output: bool = False) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(archive.parent)}
    mode = ["-o", "json"] if json_output else []
    args = [sys.executable, "-m", "chartgen", "-v", "-v", *mode, "publish", str(archive), "--repo", repo, *extra]
    stdin = None
    if env_creds:
        env.update({"CHARTGEN_USERNAME": USER, "CHARTGEN_PASSWORD": password})
    else:
        args += ["--username", USER, "--password-stdin"]
        stdin = password + "\n"
    proc = subprocess.run(args + (["--plain-http"] if repo.startswith("oci://") else []), capture_output=True,
                          text=True, input=stdin, env=env, cwd=ROOT, timeout=300, check=False)
    return f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def test_no_secret_in_any_output(hello_chart: Path, tmp_path: Path) -> None:
    archive = Path(package_chart(hello_chart, tmp_path / "dist").path)
    users = htpasswd(tmp_path / "htpasswd", USER, PASSWORD)
    outputs: list[str] = []
    with run_registry(tmp_path / "basic", auth=f"  htpasswd:\n    realm: r\n    path: {users}\n") as basic:
        for json_output in (False, True):
            outputs.append(run(archive, f"oci://{basic.address}/s", password="wrong-" + PASSWORD,
                               json_output=json_output))
            outputs.append(run(archive, f"oci://{basic.address}/s", json_output=json_output))
            outputs.append(run(archive, f"oci://{basic.address}/s", env_creds=True, json_output=json_output))
    (tmp_path / "token").mkdir()
    with run_token_issuer(tmp_path / "token", {USER: PASSWORD}) as issuer:
        auth = (f"  token:\n    realm: {issuer.url}\n    service: {issuer.service}\n    issuer: {issuer.issuer}\n"
                f"    rootcertbundle: {issuer.cert_file}\n")
        with run_registry(tmp_path / "token", auth=auth) as token:
            outputs.append(run(archive, f"oci://{token.address}/t", password="nope"))
            outputs.append(run(archive, f"oci://{token.address}/t"))
            outputs.append(run(archive, f"oci://{token.address}/t", json_output=True))
    with run_webdav(users) as (url, _root):
        outputs.append(run(archive, url, "--repo-kind", "static", "--init", password="bad"))
        outputs.append(run(archive, url, "--repo-kind", "static", "--init"))
        outputs.append(run(archive, url, "--repo-kind", "static", json_output=True))
    outputs.append(run(archive, f"file://{tmp_path / 'local'}", env_creds=True))
    # The runs did what they should: otherwise "no secret printed" would prove nothing.
    joined = "\n".join(outputs)
    assert joined.count("exit 0") >= 8 and joined.count("exit 1") >= 3, joined
    assert "pushed" in joined and "skipped" in joined and "access denied" in joined
    for output in outputs:
        for secret in FORBIDDEN:
            assert secret not in output, f"{secret[:6]}... leaked:\n{output}"


@pytest.mark.parametrize("value", [PASSWORD])
def test_credentials_repr_hides_the_password(value: str) -> None:
    from chartgen.credentials import Credentials

    creds = Credentials(USER, value, "test")
    assert value not in repr(creds) and value not in str(creds)
