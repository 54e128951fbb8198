"""Real servers for integration tests, started on 127.0.0.1 and stopped by the tests."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REGISTRY_BIN = "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, *, ok: tuple[int, ...] = (200, 401), attempts: int = 100, proc: subprocess.Popen | None = None,
              verify: bool | str = True) -> None:
    """Poll ``url`` until it answers one of ``ok`` (bounded: ``attempts`` x 0.1 s)."""
    for _ in range(attempts):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1, verify=verify).status_code in ok:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Registry:
    host: str
    port: int
    root: Path
    proc: subprocess.Popen

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@contextlib.contextmanager
def run_registry(workdir: Path, *, extra_config: str = "") -> Iterator[Registry]:
    """CNCF distribution (Debian's docker-registry) with filesystem storage on 127.0.0.1."""
    if not Path(REGISTRY_BIN).is_file():
        pytest.fail(f"{REGISTRY_BIN} missing: run scripts/install_system_packages.sh (make test does)")
    port = free_port()
    root = workdir / "registry-data"
    root.mkdir(parents=True, exist_ok=True)
    config = workdir / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: {secrets.token_hex(16)}\n" + extra_config)
    log = (workdir / "registry.log").open("w")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        scheme = "https" if "tls:" in extra_config else "http"
        wait_http(f"{scheme}://127.0.0.1:{port}/v2/", proc=proc, verify=False)
        yield Registry("127.0.0.1", port, root, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)
