"""Publish to ChartMuseum through its API: ``POST /api[/REPO]/charts`` (chart and .prov as a form).

The repository URL is what ``helm repo add`` takes (``http://host:port`` or, with ChartMuseum's
multi-tenancy, ``http://host:port/org/repo``); the API lives at ``/api`` + that path + ``/charts``.
409 means the version exists: chartgen then compares digests (same: skipped; other: refused
unless --force, which sends ``?force``).
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import requests

from chartgen.archive import ChartArchive
from chartgen.errors import ChartgenError, UsageError
from chartgen.http import AuthError, HttpClient, NetworkError, sanitize_url
from chartgen.repos.base import PUSHED, PublishResult, PushOptions, existing_outcome


class ChartMuseumError(ChartgenError):
    """ChartMuseum answered something publishing cannot go on with."""


def api_base(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or "@" in parts.netloc:
        raise UsageError(f"{url!r} is not a repository URL: use http(s)://HOST[:PORT][/PATH] (no credentials in it)")
    path = parts.path.strip("/")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/api/{path}/charts" if path else "/api/charts",
                                    "", ""))


def _headers(options: PushOptions) -> dict[str, str]:
    return {"Authorization": options.credentials.basic_header()} if options.credentials else {}


def is_chartmuseum(url: str, http: HttpClient, options: PushOptions) -> bool:
    """Whether ``url`` is served by ChartMuseum: its chart API answers with a JSON object."""
    try:
        response = http.request("GET", api_base(url), idempotent=True, headers=_headers(options))
    except NetworkError:
        raise
    if response.status_code in (401, 403):
        raise AuthError(f"{sanitize_url(url)}: access denied while detecting the repository kind; pass credentials "
                        "or --repo-kind")
    if response.status_code != 200:
        return False
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


class ChartMuseumPusher:
    """Publishes through the ChartMuseum API."""

    def __init__(self, url: str, options: PushOptions, http: HttpClient) -> None:
        self.url = url.rstrip("/")
        self.api = api_base(url)
        self.options = options
        self.http = http

    def _existing_digest(self, archive: ChartArchive) -> str | None:
        url = f"{self.api}/{urllib.parse.quote(archive.name)}/{urllib.parse.quote(archive.version)}"
        response = self.http.request("GET", url, idempotent=True, headers=_headers(self.options))
        if response.status_code == 404:
            return None
        self._check(response, f"looking up {archive.name} {archive.version}")
        try:
            return str(response.json().get("digest") or "")
        except (ValueError, AttributeError):
            raise ChartMuseumError(f"{sanitize_url(url)}: answered something that is not a chart version") from None

    def _check(self, response: requests.Response, doing: str) -> None:
        if response.status_code in (401, 403):
            raise AuthError(f"{sanitize_url(self.url)}: {doing} was refused (HTTP {response.status_code}); check the "
                            "username and password")
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise NetworkError(f"{sanitize_url(self.url)}: {doing} failed with HTTP {response.status_code} after "
                               "retries; re-run later (publishing is safe to repeat)")
        if response.status_code >= 300:
            try:
                detail = response.json().get("error", "")
            except (ValueError, AttributeError):
                detail = ""
            raise ChartMuseumError(f"{sanitize_url(self.url)}: {doing} failed with HTTP {response.status_code}"
                                   f"{': ' + str(detail) if detail else ''}")

    def push(self, archive: ChartArchive) -> PublishResult:
        reference = f"{sanitize_url(self.url)}/{archive.name}-{archive.version}.tgz"
        decided = existing_outcome(archive, self._existing_digest(archive), self.options, reference)
        if decided is not None:
            return decided
        files = {"chart": (Path(archive.path).name, Path(archive.path).read_bytes(), "application/gzip")}
        prov = Path(archive.path + ".prov")
        if prov.is_file():
            files["prov"] = (prov.name, prov.read_bytes(), "application/octet-stream")
        params = {"force": "true"} if self.options.force else None
        # Not retried: a POST whose answer was lost may have stored the chart; the 409 path below
        # (and a re-run) sorts that out by comparing digests.
        response = self.http.request("POST", self.api, idempotent=False, files=files, params=params,
                                     headers=_headers(self.options))
        if response.status_code == 409:
            decided = existing_outcome(archive, self._existing_digest(archive), self.options, reference)
            if decided is not None:
                return decided
            raise ChartMuseumError(f"{reference}: ChartMuseum refused to overwrite (409); start it with "
                                   "--allow-overwrite or without --disable-force-overwrite to use --force")
        self._check(response, f"uploading {archive.name} {archive.version}")
        return PublishResult(archive.name, archive.version, PUSHED, reference, archive.digest, "")
