"""Push charts to an OCI registry (``oci://host[:port]/path``), as ``helm push`` does, without helm.

The distribution-spec push: HEAD each blob, POST + PUT monolithic upload of the missing ones,
then PUT the manifest and check the Docker-Content-Digest the registry answers. Manifest,
config and annotations are built exactly as helm 3 and helm 4 build them (so pushing the same
archive gives the same manifest digest as ``helm push``). Auth: anonymous, Basic, and the
Bearer token flow (WWW-Authenticate realm/service/scope).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

import requests

from chartgen.archive import ChartArchive
from chartgen.errors import ChartgenError, UsageError
from chartgen.http import AuthError, HttpClient, NetworkError, sanitize_url
from chartgen.repos.base import PUSHED, PublishResult, PushOptions, existing_outcome

CONFIG_MEDIA_TYPE = "application/vnd.cncf.helm.config.v1+json"
CHART_MEDIA_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
PROV_MEDIA_TYPE = "application/vnd.cncf.helm.chart.provenance.v1.prov"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
ACCEPT_MANIFESTS = f"{MANIFEST_MEDIA_TYPE}, application/vnd.docker.distribution.manifest.v2+json"

# chart.Metadata's fields in Go struct order (the config blob is its json.Marshal, omitempty).
_METADATA_ORDER = ("name", "home", "sources", "version", "description", "keywords", "maintainers", "icon",
                   "apiVersion", "condition", "tags", "appVersion", "deprecated", "annotations", "kubeVersion",
                   "dependencies", "type")
_MAINTAINER_ORDER = ("name", "email", "url")
_DEPENDENCY_ORDER = ("name", "version", "repository", "condition", "tags", "enabled", "import-values", "alias")
_IMMUTABLE_ANNOTATIONS = ("org.opencontainers.image.title", "org.opencontainers.image.version")
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class OciError(ChartgenError):
    """The registry answered something a push cannot go on with."""


def parse_reference(url: str) -> tuple[str, str]:
    """``oci://host[:port]/path`` -> (host[:port], path without slashes at the ends)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "oci" or not parts.netloc or parts.query or parts.fragment or "@" in parts.netloc:
        raise UsageError(f"{url!r} is not an OCI repository URL: use oci://HOST[:PORT]/PATH (no credentials in it)")
    path = parts.path.strip("/")
    if path and not re.fullmatch(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*",
                                 path):
        raise UsageError(f"OCI repository path {path!r} is invalid: use lowercase letters, digits and separators")
    return parts.netloc, path


def go_json(value: Any) -> bytes:
    """JSON as Go's encoding/json writes it: compact, with <, >, & and U+2028/9 escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text.encode("utf-8")


def _ordered(mapping: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    return {k: mapping[k] for k in order if mapping.get(k) not in (None, "", [], {}, False)}


def config_blob(archive: ChartArchive) -> bytes:
    """Chart.yaml as helm's config blob: json.Marshal(chart.Metadata)."""
    raw = dict(archive.metadata.raw)
    raw["version"], raw["name"] = archive.version, archive.name
    for key in ("appVersion", "kubeVersion", "description", "home", "icon", "condition", "tags", "type"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raw[key] = str(raw[key])
    meta = _ordered(raw, _METADATA_ORDER)
    if isinstance(meta.get("maintainers"), list):
        meta["maintainers"] = [_ordered(m, _MAINTAINER_ORDER) if isinstance(m, dict) else m
                               for m in meta["maintainers"]]
    if isinstance(meta.get("dependencies"), list):
        meta["dependencies"] = [_ordered(d, _DEPENDENCY_ORDER) if isinstance(d, dict) else d
                                for d in meta["dependencies"]]
    return go_json(meta)


def _escape_non_ascii(value: str) -> str:
    return "".join(c if ord(c) <= 127 else f"\\u{ord(c):04x}" for c in value)


def annotations(archive: ChartArchive, created: str) -> dict[str, str]:
    """The manifest annotations helm writes (title, version, description, url, created, source,
    authors) plus the chart's own annotations, which may not override title and version."""
    raw = archive.metadata.raw
    out: dict[str, str] = {}

    def add(key: str, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            out[key] = _escape_non_ascii(value)

    add("org.opencontainers.image.description", raw.get("description"))
    add("org.opencontainers.image.title", archive.name)
    add("org.opencontainers.image.version", archive.version)
    add("org.opencontainers.image.url", raw.get("home"))
    out["org.opencontainers.image.created"] = created
    sources = raw.get("sources")
    if isinstance(sources, list) and sources:
        add("org.opencontainers.image.source", str(sources[0]))
    maintainers = raw.get("maintainers")
    if isinstance(maintainers, list) and maintainers:
        parts = []
        for m in maintainers:
            m = m if isinstance(m, dict) else {}
            text = str(m.get("name") or "")
            if m.get("email"):
                text += f" ({m['email']})"
            parts.append(text)
        add("org.opencontainers.image.authors", ", ".join(parts))
    chart_annotations = raw.get("annotations")
    if isinstance(chart_annotations, dict):
        for key, value in chart_annotations.items():
            if key not in _IMMUTABLE_ANNOTATIONS:
                out[str(key)] = _escape_non_ascii(str(value))
    return dict(sorted(out.items()))


def _descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}


def build_manifest(archive: ChartArchive, chart_bytes: bytes, prov: bytes | None, created: str
                   ) -> tuple[bytes, list[tuple[dict[str, Any], bytes]]]:
    """The manifest bytes and the blobs (descriptor, content) it references, as helm builds them."""
    config = config_blob(archive)
    blobs = [(_descriptor(CONFIG_MEDIA_TYPE, config), config),
             (_descriptor(CHART_MEDIA_TYPE, chart_bytes), chart_bytes)]
    if prov is not None:
        blobs.append((_descriptor(PROV_MEDIA_TYPE, prov), prov))
    manifest = {"schemaVersion": 2, "config": blobs[0][0], "layers": [d for d, _ in blobs[1:]],
                "annotations": annotations(archive, created)}
    return go_json(manifest), blobs


class OciPusher:
    """Pushes chart archives to ``oci://host[:port]/path``."""

    def __init__(self, url: str, options: PushOptions, http: HttpClient) -> None:
        self.host, self.namespace = parse_reference(url)
        self.base = f"{'http' if options.plain_http else 'https'}://{self.host}"
        self.options = options
        self.http = http
        self._auth: dict[str, str] = {}  # scope -> Authorization header value

    def reference(self, archive: ChartArchive) -> str:
        return f"{self.host}/{self.repository(archive)}:{archive.version.replace('+', '_')}"

    def repository(self, archive: ChartArchive) -> str:
        return f"{self.namespace}/{archive.name}" if self.namespace else archive.name

    def push(self, archive: ChartArchive) -> PublishResult:
        repo = self.repository(archive)
        tag = archive.version.replace("+", "_")
        ref = f"oci://{self.reference(archive)}"
        scope = f"repository:{repo}:pull,push"
        existing = self._existing_chart_digest(repo, tag, scope)
        decided = existing_outcome(archive, existing, self.options, ref)
        if decided is not None:
            return decided
        chart_bytes = Path(archive.path).read_bytes()
        if hashlib.sha256(chart_bytes).hexdigest() != archive.digest:
            raise ChartgenError(f"{archive.path} changed while publishing; re-run")
        prov_path = Path(archive.path + ".prov")
        prov = prov_path.read_bytes() if prov_path.is_file() else None
        # helm uses the archive's modification time, so re-pushing an unchanged file is identical.
        mtime = _dt.datetime.fromtimestamp(Path(archive.path).stat().st_mtime, _dt.timezone.utc)
        manifest, blobs = build_manifest(archive, chart_bytes, prov, mtime.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for descriptor, content in blobs:
            self._upload_blob(repo, descriptor["digest"], content, scope)
        digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        response = self._request("PUT", f"/v2/{repo}/manifests/{tag}", scope, data=manifest,
                                 headers={"Content-Type": MANIFEST_MEDIA_TYPE})
        if response.status_code not in (200, 201):
            raise self._error(response, f"uploading the manifest of {repo}:{tag}")
        answered = response.headers.get("Docker-Content-Digest")
        if answered and answered != digest:
            raise OciError(f"{self.host}: the registry stored manifest {answered} but chartgen sent {digest}; "
                           "the registry rewrote it, refusing to trust the push")
        return PublishResult(archive.name, archive.version, PUSHED, ref, archive.digest, "", manifest_digest=digest)

    # --- registry operations ---

    def _existing_chart_digest(self, repo: str, tag: str, scope: str) -> str | None:
        response = self._request("GET", f"/v2/{repo}/manifests/{tag}", scope, headers={"Accept": ACCEPT_MANIFESTS})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error(response, f"reading {repo}:{tag}")
        try:
            manifest = response.json()
            layers = manifest.get("layers") or []
        except (ValueError, AttributeError):
            raise OciError(f"{self.host}: {repo}:{tag} has a manifest that is not JSON; it is not a chart") from None
        for layer in layers:
            if isinstance(layer, dict) and layer.get("mediaType") == CHART_MEDIA_TYPE:
                return str(layer.get("digest", "")).removeprefix("sha256:")
        raise OciError(f"{self.host}: {repo}:{tag} exists and is not a Helm chart; choose another repository path")

    def _upload_blob(self, repo: str, digest: str, content: bytes, scope: str) -> None:
        head = self._request("HEAD", f"/v2/{repo}/blobs/{digest}", scope)
        if head.status_code in (200, 307):
            return
        if head.status_code != 404:
            raise self._error(head, f"checking blob {digest[:19]}")
        # The whole POST + PUT sequence is retried as one step: a failed PUT may have consumed the session.
        for attempt in range(3):
            start = self._request("POST", f"/v2/{repo}/blobs/uploads/", scope, headers={"Content-Length": "0"})
            if start.status_code != 202 or "Location" not in start.headers:
                raise self._error(start, "starting a blob upload")
            location = urllib.parse.urljoin(self.base + "/", start.headers["Location"])
            separator = "&" if urllib.parse.urlsplit(location).query else "?"
            upload = self._request("PUT", f"{location}{separator}digest={urllib.parse.quote(digest)}", scope,
                                   data=content, headers={"Content-Type": "application/octet-stream"},
                                   absolute=True)
            if upload.status_code in (201, 204):
                return
            if attempt == 2 or upload.status_code not in (400, 404, 416):
                raise self._error(upload, f"uploading blob {digest[:19]}")

    def _request(self, method: str, path: str, scope: str, *, headers: dict[str, str] | None = None,
                 data: bytes | None = None, absolute: bool = False) -> requests.Response:
        url = path if absolute else self.base + path
        headers = dict(headers or {})
        for attempt in range(2):
            if scope in self._auth:
                headers["Authorization"] = self._auth[scope]
            # Every registry step is idempotent: blobs are content-addressed, the manifest PUT is a replace.
            response = self.http.request(method, url, idempotent=True, headers=headers, data=data)
            if response.status_code != 401 or attempt == 1:
                break
            # No credentials sent yet, or a cached token expired: answer the challenge once, then retry.
            self._authenticate(response, scope)
        if response.status_code in (401, 403):
            who = f"as {self.options.credentials.username}" if self.options.credentials else "anonymously"
            raise AuthError(f"{self.host}: access denied {who} for {scope} (HTTP {response.status_code}); check the "
                            "username and password (--username/--password-stdin, CHARTGEN_USERNAME/PASSWORD or "
                            "helm registry login)")
        if 300 <= response.status_code < 400 and method != "HEAD":
            raise OciError(f"{self.host}: redirected to {sanitize_url(response.headers.get('Location', '?'))}; "
                           "chartgen does not follow redirects with credentials: use the final registry address")
        return response

    def _authenticate(self, response: requests.Response, scope: str) -> None:
        challenge = response.headers.get("WWW-Authenticate", "")
        scheme = challenge.split(" ", 1)[0].lower()
        creds = self.options.credentials
        if scheme == "basic":
            if creds is None:
                raise AuthError(f"{self.host}: the registry needs credentials for {scope}: pass --username and "
                                "--password-stdin (or set CHARTGEN_USERNAME/CHARTGEN_PASSWORD, or helm registry login)")
            self._auth[scope] = creds.basic_header()
            return
        if scheme != "bearer":
            raise AuthError(f"{self.host}: unsupported authentication challenge {scheme or 'none'!r} for {scope}")
        params = dict(_CHALLENGE.findall(challenge))
        realm = params.get("realm")
        if not realm or urllib.parse.urlsplit(realm).scheme not in ("http", "https"):
            raise AuthError(f"{self.host}: the Bearer challenge has no usable realm")
        query = {"service": params.get("service", ""), "scope": scope}
        token_headers = {"Authorization": creds.basic_header()} if creds else {}
        token = self.http.request("GET", realm, idempotent=True, headers=token_headers,
                                  params={k: v for k, v in query.items() if v})
        if token.status_code in (401, 403):
            raise AuthError(f"{self.host}: the token service refused the credentials for {scope} "
                            f"(HTTP {token.status_code}); check the username and password")
        if token.status_code != 200:
            raise self._error(token, "getting a registry token")
        try:
            body = token.json()
            value = body.get("token") or body.get("access_token")
        except (ValueError, AttributeError):
            value = None
        if not value:
            raise AuthError(f"{self.host}: the token service answered without a token for {scope}")
        self._auth[scope] = f"Bearer {value}"

    def _error(self, response: requests.Response, doing: str) -> ChartgenError:
        detail = ""
        try:
            errors = response.json().get("errors") or []
            if errors and isinstance(errors[0], dict):
                detail = f": {errors[0].get('code', '')} {errors[0].get('message', '')}".rstrip()
        except (ValueError, AttributeError):
            pass
        if response.status_code >= 500 or response.status_code in (408, 429):
            return NetworkError(f"{self.host}: {doing} failed with HTTP {response.status_code}{detail} after "
                                "retries; re-run later (publishing is safe to repeat)")
        return OciError(f"{self.host}: {doing} failed with HTTP {response.status_code}{detail}")
