"""A static file server on 127.0.0.1 for tests (a thread; stopped by the context manager)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def threaded_server(handler: type[http.server.BaseHTTPRequestHandler] | functools.partial) -> Iterator[str]:
    """Run ``handler`` in a thread on a free 127.0.0.1 port; yields the base URL, stops on exit."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on a free 127.0.0.1 port; yields the base URL."""
    with threaded_server(functools.partial(_QuietHandler, directory=str(root))) as url:
        yield url
