"""A reverse proxy on 127.0.0.1 that injects faults in front of a real server (registry, Apache)."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Fault:
    """Inject ``kind`` on requests matching ``method`` and ``path`` (a regex), ``times`` times (-1: always).

    kinds: "reset" (close the connection, no answer), "status" (answer ``status`` with ``headers``),
    "slow" (wait ``delay`` seconds, then forward).
    """

    method: str
    path: str
    kind: str
    times: int = 1
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hits: int = 0


@dataclass
class FaultProxy:
    url: str
    faults: list[Fault]
    log: list[tuple[str, str, int]]  # method, path, status answered (0: reset)

    def count(self, method: str, path_regex: str) -> int:
        return sum(1 for m, p, _ in self.log if m == method and re.search(path_regex, p))


@contextlib.contextmanager
def run_fault_proxy(upstream: str, faults: list[Fault]) -> Iterator[FaultProxy]:
    target = urllib.parse.urlsplit(upstream)
    log: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    def pick(method: str, path: str) -> Fault | None:
        with lock:
            for fault in faults:
                if fault.method in (method, "*") and re.search(fault.path, path) and fault.times != 0:
                    if fault.times > 0:
                        fault.times -= 1
                    fault.hits += 1
                    return fault
        return None

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fault = pick(self.command, self.path)
            if fault and fault.kind == "reset":
                log.append((self.command, self.path, 0))
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if fault and fault.kind == "status":
                log.append((self.command, self.path, fault.status))
                self.send_response(fault.status)
                for key, value in fault.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if fault and fault.kind == "slow":
                time.sleep(fault.delay)
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            # The original Host is kept: the registry builds upload Locations from it, and they must
            # point back at the proxy so that every request of the push goes through the faults.
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            log.append((self.command, self.path, response.status))
            with contextlib.suppress(OSError):
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_HEAD = do_PATCH = do_DELETE = do_OPTIONS = _handle

        def __getattr__(self, name: str):  # LOCK, UNLOCK and other WebDAV methods
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FaultProxy(f"http://127.0.0.1:{server.server_address[1]}", faults, log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
