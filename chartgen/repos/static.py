"""A static HTTP chart repository with PUT (WebDAV, Artifactory- or bucket-style endpoints).

The archive is uploaded first, then index.yaml is updated by compare-and-swap: GET it with its
ETag, merge, PUT it back with ``If-Match: <etag>`` (``If-None-Match: *`` when creating it). On
412 another publisher won the race: re-read, re-merge, retry after a jittered backoff, a bounded
number of times. N concurrent publishers lose no entry, provided the server honours If-Match
(Apache mod_dav does; nginx's PUT does not). A failed GET of an existing index aborts: a fresh
index is only started with ``--init``.
"""

from __future__ import annotations

import random
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import requests

from chartgen.archive import ChartArchive
from chartgen.errors import ChartgenError, UsageError
from chartgen.http import AuthError, HttpClient, NetworkError, sanitize_url
from chartgen.index import INDEX_FILE, ChartVersion, IndexFile, IndexFileError
from chartgen.repos.base import PUSHED, PublishResult, PushOptions, existing_outcome

#: How many times the index update is retried after losing a race (412).
MAX_INDEX_ATTEMPTS = 40


class StaticRepoError(ChartgenError):
    """The static repository answered something publishing cannot go on with."""


class StaticPusher:
    """Publishes to ``http(s)://host/path/`` by PUT."""

    def __init__(self, url: str, options: PushOptions, http: HttpClient, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or "@" in parts.netloc:
            raise UsageError(f"{url!r} is not a repository URL: use http(s)://HOST[:PORT]/PATH (no credentials in it)")
        self.base = url.rstrip("/") + "/"
        self.options = options
        self.http = http
        self._sleep = sleep

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.options.credentials:
            headers["Authorization"] = self.options.credentials.basic_header()
        return headers

    def _check(self, response: requests.Response, doing: str) -> None:
        if response.status_code in (401, 403):
            raise AuthError(f"{sanitize_url(self.base)}: {doing} was refused (HTTP {response.status_code}); check "
                            "the username and password")
        if 300 <= response.status_code < 400:
            raise StaticRepoError(f"{sanitize_url(self.base)}: {doing} was redirected to "
                                  f"{sanitize_url(response.headers.get('Location', '?'))}; use the final URL")
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise NetworkError(f"{sanitize_url(self.base)}: {doing} failed with HTTP {response.status_code} after "
                               "retries; re-run later (publishing is safe to repeat)")

    def _read_index(self) -> tuple[IndexFile | None, str | None]:
        """The current index and its ETag; (None, None) when there is none yet."""
        url = self.base + INDEX_FILE
        response = self.http.request("GET", url, idempotent=True, headers=self._headers({"Cache-Control": "no-cache"}))
        if response.status_code == 404:
            return None, None
        self._check(response, f"reading {INDEX_FILE}")
        if response.status_code != 200:
            raise StaticRepoError(f"{sanitize_url(url)}: HTTP {response.status_code} reading the index")
        etag = response.headers.get("ETag")
        if not etag:
            raise StaticRepoError(f"{sanitize_url(url)}: the server sends no ETag, so index.yaml cannot be updated "
                                  "without risking lost updates; use a server with ETags and If-Match (Apache "
                                  "mod_dav with FileETag Digest)")
        try:
            index = IndexFile.loads(response.content.decode("utf-8-sig"), sanitize_url(url))
        except UnicodeDecodeError:
            raise IndexFileError(f"{sanitize_url(url)}: not UTF-8 text") from None
        return index, etag

    def push(self, archive: ChartArchive) -> PublishResult:
        file_name = f"{archive.name}-{archive.version}.tgz"
        archive_url = self.base + urllib.parse.quote(file_name)
        reference = sanitize_url(archive_url)
        index, _ = self._read_index()
        if index is None and not self.options.init:
            raise StaticRepoError(f"{sanitize_url(self.base + INDEX_FILE)} does not exist: pass --init to start a "
                                  "new repository there (chartgen never starts one by itself)")
        entry = index.get(archive.name, archive.version) if index else None
        decided = existing_outcome(archive, entry.digest if entry else None, self.options, reference)
        if decided is not None:
            return decided
        # 1. the archive (a retried PUT of the same bytes is harmless)
        data = Path(archive.path).read_bytes()
        response = self.http.request("PUT", archive_url, idempotent=True, data=data,
                                     headers=self._headers({"Content-Type": "application/gzip"}))
        self._check(response, f"uploading {file_name}")
        if response.status_code not in (200, 201, 204):
            raise StaticRepoError(f"{reference}: upload failed with HTTP {response.status_code}")
        # 2. the index, by compare-and-swap
        for attempt in range(MAX_INDEX_ATTEMPTS):
            index, etag = self._read_index()
            if index is None:
                if not self.options.init:
                    raise StaticRepoError(f"{sanitize_url(self.base + INDEX_FILE)} disappeared while publishing; "
                                          "re-run (pass --init only to start a new repository)")
                index = IndexFile()
            current = index.get(archive.name, archive.version)
            if current is not None and current.digest != archive.digest and not self.options.force:
                # Someone published this version with other content between our checks: theirs stays.
                decided = existing_outcome(archive, current.digest, self.options, reference)
                assert decided is not None
                return decided
            if current is None or current.digest != archive.digest or current.urls != [archive_url]:
                index.put(ChartVersion.from_archive(archive, archive_url))
            else:
                return PublishResult(archive.name, archive.version, PUSHED, reference, archive.digest,
                                     "index entry already present")
            condition = {"If-Match": etag} if etag else {"If-None-Match": "*"}
            # A conditional PUT is safe to retry: if an earlier attempt went through, the ETag no longer
            # matches and the server answers 412, which sends us round the loop to re-read.
            response = self.http.request(
                "PUT", self.base + INDEX_FILE, idempotent=True, data=index.dumps().encode("utf-8"),
                headers=self._headers({**condition, "Content-Type": "application/x-yaml"}))
            if response.status_code in (200, 201, 204):
                return PublishResult(archive.name, archive.version, PUSHED, reference, archive.digest, "")
            if response.status_code != 412:
                self._check(response, f"writing {INDEX_FILE}")
                raise StaticRepoError(f"{sanitize_url(self.base + INDEX_FILE)}: HTTP {response.status_code} writing "
                                      "the index")
            # Lost the race: back off with jitter so the contenders spread out, then re-read and re-merge.
            self._sleep(random.uniform(0.02, min(0.05 * (2 ** min(attempt, 5)), 1.0)))
        raise StaticRepoError(f"{sanitize_url(self.base + INDEX_FILE)}: still losing the race after "
                              f"{MAX_INDEX_ATTEMPTS} attempts; the archive is uploaded, re-run to add it to the index")
