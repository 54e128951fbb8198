"""Unit tests of the HTTP policy and the credential lookup order (real local servers, no mocks)."""

from __future__ import annotations

import base64
import contextlib
import email.utils
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartgen.credentials import Credentials, resolve
from chartgen.errors import ChartgenError
from chartgen.http import HttpClient, HttpSettings, NetworkError, _parse_retry_after, sanitize_url


@contextlib.contextmanager
def scripted_server(answers: list[tuple[int, dict[str, str]]]) -> Iterator[tuple[str, list[str]]]:
    """Answers requests in order from ``answers`` (status, headers); records the paths requested."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self) -> None:
            seen.append(f"{self.command} {self.path} auth={'Authorization' in self.headers}")
            status, headers = answers.pop(0) if answers else (200, {})
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = _answer

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_sanitize_url_drops_userinfo_and_query() -> None:
    assert sanitize_url("https://user:pw@host:5000/v2/x?_state=secret&digest=1") == "https://host:5000/v2/x"


def test_retry_after_seconds_and_date() -> None:
    assert _parse_retry_after("7") == 7.0
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 20 < (_parse_retry_after(soon) or 0) <= 31
    assert _parse_retry_after("soon") is None


def test_idempotent_steps_are_retried_with_bounded_backoff() -> None:
    delays: list[float] = []
    with scripted_server([(503, {}), (502, {}), (429, {"Retry-After": "3"}), (200, {})]) as (url, seen):
        client = HttpClient(HttpSettings(retries=4, backoff=0.5, max_backoff=1.0), sleep=delays.append)
        assert client.request("GET", url + "/x", idempotent=True).status_code == 200
    assert len(seen) == 4
    assert all(0 < d <= 1.0 for d in delays[:2]) and delays[2] == 3.0


def test_retries_are_bounded() -> None:
    delays: list[float] = []
    with scripted_server([(503, {})] * 10) as (url, seen):
        client = HttpClient(HttpSettings(retries=2), sleep=delays.append)
        assert client.request("GET", url + "/x", idempotent=True).status_code == 503
    assert len(seen) == 3 and len(delays) == 2


def test_non_idempotent_requests_are_not_retried() -> None:
    with scripted_server([(503, {}), (200, {})]) as (url, seen):
        client = HttpClient(HttpSettings(retries=4), sleep=lambda _: None)
        assert client.request("POST", url + "/x", idempotent=False).status_code == 503
    assert len(seen) == 1


def test_connection_refused_is_a_clear_error() -> None:
    client = HttpClient(HttpSettings(retries=1, connect_timeout=1), sleep=lambda _: None)
    with pytest.raises(NetworkError, match=r"connection failed after 2 attempt\(s\)"):
        client.request("GET", "http://127.0.0.1:1/x?token=abc", idempotent=True)


def test_redirects_are_not_followed_with_credentials() -> None:
    with scripted_server([(307, {"Location": "/elsewhere"}), (307, {"Location": "/elsewhere"})]) as (url, seen):
        client = HttpClient(sleep=lambda _: None)
        with_auth = client.request("GET", url + "/x", idempotent=True, headers={"Authorization": "Basic eA=="})
        assert with_auth.status_code == 307 and len(seen) == 1
        without = client.request("GET", url + "/y", idempotent=True)
        assert without.status_code == 200 and seen[-1].startswith("GET /elsewhere auth=False")


def write_config(path: Path, host: str, user: str, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {f"https://{host}/v1/": {"auth": auth}}}))


def test_credential_order(tmp_path: Path) -> None:
    host = "registry.example.com:5000"
    helm_cfg, docker_dir = tmp_path / "helm.json", tmp_path / "docker"
    write_config(helm_cfg, host, "from-helm", "p1")
    write_config(docker_dir / "config.json", host, "from-docker", "p2")
    env = {"HELM_REGISTRY_CONFIG": str(helm_cfg), "DOCKER_CONFIG": str(docker_dir), "HOME": str(tmp_path)}
    assert resolve(host, env=env) == Credentials("from-helm", "p1", str(helm_cfg))
    assert resolve(host, env={**env, "HELM_REGISTRY_CONFIG": str(tmp_path / "none")}).username == "from-docker"
    with_env = {**env, "CHARTGEN_USERNAME": "from-env", "CHARTGEN_PASSWORD": "p3"}
    assert resolve(host, env=with_env).username == "from-env"
    assert resolve(host, username="from-flag", password="p4", env=with_env).username == "from-flag"
    assert resolve(host, username="flag-user", env=with_env) == Credentials("flag-user", "p3", "command line")
    assert resolve("other.example.com", env=env) is None
    with pytest.raises(ChartgenError, match="both"):
        resolve(host, env={"CHARTGEN_USERNAME": "only-user"})
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ChartgenError, match="cannot read credentials"):
        resolve(host, env={"HELM_REGISTRY_CONFIG": str(broken), "HOME": str(tmp_path)})
