"""Real servers for integration tests, started on 127.0.0.1 and stopped by the tests."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.httpserver import threaded_server

REGISTRY_BIN = "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Terminate a server process, killing it if it does not exit within 10 seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_http(url: str, *, ok: tuple[int, ...] = (200, 401), attempts: int = 100, proc: subprocess.Popen | None = None,
              verify: bool | str = True) -> None:
    """Poll ``url`` until it answers one of ``ok`` (bounded: ``attempts`` x 0.1 s)."""
    for _ in range(attempts):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        with contextlib.suppress(requests.RequestException), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an unverified probe of our own test server
            if requests.get(url, timeout=1, verify=verify).status_code in ok:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Tls:
    ca_file: Path
    cert_file: Path
    key_file: Path


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
def run_registry(workdir: Path, *, tls: Tls | None = None, auth: str = "", host: str = "127.0.0.1"
                 ) -> Iterator[Registry]:
    """CNCF distribution (Debian's docker-registry) with filesystem storage on 127.0.0.1.

    ``auth`` is the registry's ``auth:`` block (htpasswd or token); ``tls`` serves HTTPS.
    """
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
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: {secrets.token_hex(16)}\n"
        + (f"  tls:\n    certificate: {tls.cert_file}\n    key: {tls.key_file}\n" if tls else "")
        + (f"auth:\n{auth}" if auth else ""))
    log = (workdir / "registry.log").open("w")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        scheme = "https" if tls else "http"
        wait_http(f"{scheme}://127.0.0.1:{port}/v2/", proc=proc, verify=False)
        yield Registry(host, port, root, proc)
    finally:
        stop(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


# --- TLS, basic auth and a token issuer for the registry -------------------------------------

def loopback_name() -> str:
    """A host name other than localhost that resolves to 127.0.0.1 (helm 3 forces plain HTTP for
    127.0.0.1 and localhost, so TLS tests with helm 3 need another name)."""
    candidates = [socket.gethostname(), "localhost.localdomain"]
    for name in candidates:
        if name in ("localhost", "127.0.0.1"):
            continue
        with contextlib.suppress(OSError):
            if socket.gethostbyname(name) == "127.0.0.1":
                return name
    pytest.fail(f"none of {candidates} resolves to 127.0.0.1; add '127.0.0.1 {socket.gethostname()}' to /etc/hosts")


def make_tls(workdir: Path, names: list[str]) -> Tls:
    """A throw-away CA and a server certificate for ``names`` (and 127.0.0.1)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chartgen test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(ca_key, hashes.SHA256()))
    tls = Tls(workdir / "ca.pem", workdir / "server.pem", workdir / "server.key")
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return tls


def htpasswd(path: Path, user: str, password: str) -> Path:
    """A bcrypt htpasswd file (the registry accepts only bcrypt), made by apache2-utils' htpasswd."""
    subprocess.run(["htpasswd", "-Bbc", str(path), user, password], check=True, capture_output=True)
    return path


@dataclass
class TokenIssuer:
    url: str
    service: str
    issuer: str
    cert_file: Path
    requests: list[dict[str, str]]


@contextlib.contextmanager
def run_token_issuer(workdir: Path, users: dict[str, str]) -> Iterator[TokenIssuer]:
    """A minimal Docker token service: checks Basic credentials, signs RS256 JWTs whose x5c chain
    the real registry verifies against its rootcertbundle."""
    import base64
    import datetime
    import http.server
    import json
    import urllib.parse

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chartgen token issuer")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2)).sign(key, hashes.SHA256()))
    cert_file = workdir / "issuer.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    service, issuer = "chartgen-test-registry", "chartgen-test-issuer"
    seen: list[dict[str, str]] = []

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            # OAuth2 password grant (containerd's resolver, used by helm 3 after `helm registry login`).
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            user = form.get("username") if users.get(form.get("username", "")) == form.get("password") else None
            self._issue({k: v for k, v in form.items() if k in ("service", "scope")}, user)

        def do_GET(self) -> None:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            header = self.headers.get("Authorization", "")
            user = None
            if header.startswith("Basic "):
                u, _, p = base64.b64decode(header[6:]).decode().partition(":")
                if users.get(u) == p:
                    user = u
            self._issue(query, user)

        def _issue(self, query: dict[str, str], user: str | None) -> None:
            seen.append(query)
            if user is None:
                self.send_response(401)
                self.end_headers()
                return
            access = []
            scope = query.get("scope", "")
            if scope.count(":") == 2:
                kind, repo, actions = scope.split(":")
                access.append({"type": kind, "name": repo, "actions": actions.split(",")})
            t = int(time.time())
            claims = {"iss": issuer, "sub": user, "aud": service, "exp": t + 300, "nbf": t - 30, "iat": t,
                      "jti": secrets.token_hex(8), "access": access}
            signing_input = (b64(json.dumps({"typ": "JWT", "alg": "RS256", "x5c": [x5c]}).encode()) + "." +
                             b64(json.dumps(claims).encode()))
            signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
            jwt = signing_input + "." + b64(signature)
            body = json.dumps({"token": jwt, "access_token": jwt, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with threaded_server(Handler) as url:
        yield TokenIssuer(f"{url}/token", service, issuer, cert_file, seen)


# --- static repositories: Apache mod_dav (conditional PUT) and a naive PUT server ------------

APACHE_BIN = "/usr/sbin/apache2"
APACHE_MODULES = Path("/usr/lib/apache2/modules")


@contextlib.contextmanager
def run_webdav(users: Path | None = None) -> Iterator[tuple[str, Path]]:
    """Apache httpd with mod_dav/dav_fs and FileETag Digest on 127.0.0.1; yields (base URL, document root).

    Apache drops root for www-data, so its tree lives in a world-traversable temporary directory.
    """
    import tempfile

    if not Path(APACHE_BIN).is_file():
        pytest.fail(f"{APACHE_BIN} missing: run scripts/install_system_packages.sh (make test does)")
    root = Path(tempfile.mkdtemp(prefix="chartgen-dav-"))
    root.chmod(0o755)
    htdocs, lock = root / "htdocs", root / "lock"
    htdocs.mkdir()
    lock.mkdir()
    shutil.chown(htdocs, "www-data", "www-data")
    shutil.chown(lock, "www-data", "www-data")
    port = free_port()
    if users is not None:
        shutil.copy(users, root / "htpasswd")
        (root / "htpasswd").chmod(0o644)
        access = f'  AuthType Basic\n  AuthName "chartgen test"\n  AuthUserFile {root}/htpasswd\n  Require valid-user'
    else:
        access = "  Require all granted"
    config = root / "httpd.conf"
    config.write_text(f"""ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {root}/httpd.pid
ErrorLog {root}/error.log
DefaultRuntimeDir {root}
LogLevel warn
LoadModule mpm_event_module {APACHE_MODULES}/mod_mpm_event.so
LoadModule authz_core_module {APACHE_MODULES}/mod_authz_core.so
LoadModule dav_module {APACHE_MODULES}/mod_dav.so
LoadModule dav_fs_module {APACHE_MODULES}/mod_dav_fs.so
LoadModule auth_basic_module {APACHE_MODULES}/mod_auth_basic.so
LoadModule authn_core_module {APACHE_MODULES}/mod_authn_core.so
LoadModule authn_file_module {APACHE_MODULES}/mod_authn_file.so
LoadModule authz_user_module {APACHE_MODULES}/mod_authz_user.so
User www-data
Group www-data
DocumentRoot {htdocs}
DavLockDB {lock}/DavLock
<Directory {htdocs}>
  Dav On
  FileETag Digest
{access}
</Directory>
""")
    log = (root / "stdout.log").open("w")
    proc = subprocess.Popen([APACHE_BIN, "-f", str(config), "-DFOREGROUND"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/", ok=(200, 401, 403, 404), proc=proc)
        yield f"http://127.0.0.1:{port}", htdocs
    finally:
        stop(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def run_naive_put_server(root: Path, read_delay: float = 1.0) -> Iterator[str]:
    """A PUT-capable file server that sends ETags but ignores If-Match / If-None-Match, and is slow to
    serve index.yaml (as a busy server is): the kind of server on which index updates get lost."""
    import hashlib
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _path(self) -> Path:
            return root / self.path.lstrip("/").split("?", 1)[0]

        def do_GET(self) -> None:
            path = self._path()
            if not path.is_file():
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = path.read_bytes()
            if path.name == "index.yaml":
                time.sleep(read_delay)
            self.send_response(200)
            self.send_header("ETag", '"' + hashlib.md5(data).hexdigest() + '"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self) -> None:
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self._path().write_bytes(data)  # If-Match ignored: the lost-update hazard
            self.send_response(204)
            self.end_headers()

    with threaded_server(Handler) as url:
        yield url
