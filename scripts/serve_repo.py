#!/usr/bin/env python3
"""Serve a directory over HTTP on 127.0.0.1 while a command runs, then stop (used by make demo).

Usage: scripts/serve_repo.py DIR -- COMMAND...   (COMMAND sees the base URL as $REPO_URL)
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__)
    handler = functools.partial(Quiet, directory=sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "REPO_URL": f"http://127.0.0.1:{server.server_address[1]}"}
        return subprocess.run(sys.argv[3:], env=env, check=False).returncode
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
