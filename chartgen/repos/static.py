"""A static HTTP chart repository with PUT (WebDAV, Artifactory- or bucket-style endpoints).

The archive is uploaded first, then index.yaml is updated by compare-and-swap: GET it with its
ETag, merge, PUT it back with ``If-Match: <etag>`` (``If-None-Match: *`` when creating it). On
412 another publisher won the race: re-read, re-merge, retry after a jittered backoff, a bounded
number of times. N concurrent publishers lose no entry, provided the server honours If-Match
(Apache mod_dav does; nginx's PUT does not). A failed GET of an existing index aborts: a fresh
index is only started with ``--init``.
"""

from __future__ import annotations

import contextlib
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

#: How many times the index update is retried after losing a race (412) or waiting for a lock (423).
MAX_INDEX_ATTEMPTS = 200
#: Seconds a WebDAV lock on index.yaml lasts if its holder dies before unlocking.
LOCK_TIMEOUT = 30
#: Seconds to wait before reading back an index written without a lock.
VERIFY_DELAY = 0.3


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
        self._locking: bool | None = None

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

    def _read_index(self, *, locked: bool = False) -> tuple[IndexFile | None, str | None]:
        """The current index and its ETag; (None, None) when there is none yet.

        Under our WebDAV lock, an empty index.yaml is the placeholder the LOCK created: no index yet,
        but an ETag to write against.
        """
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
        if locked and not response.content.strip():
            return None, etag
        try:
            index = IndexFile.loads(response.content.decode("utf-8-sig"), sanitize_url(url))
        except UnicodeDecodeError:
            raise IndexFileError(f"{sanitize_url(url)}: not UTF-8 text") from None
        return index, etag

    # --- WebDAV locking (class 2 servers): serialises publishers where If-Match alone is racy ---

    def _supports_locking(self) -> bool:
        if self._locking is None:
            response = self.http.request("OPTIONS", self.base, idempotent=True, headers=self._headers())
            dav = response.headers.get("DAV", "")
            self._locking = response.status_code < 400 and "2" in [c.strip() for c in dav.split(",")]
        return self._locking

    def _lock(self) -> str | None:
        """LOCK index.yaml; the lock token, or None when another publisher holds it (423)."""
        # Retried like an idempotent step: a 5xx means the server did not lock; if an answer got lost
        # after it did, that orphan lock expires after LOCK_TIMEOUT and the 423 loop waits it out.
        response = self.http.request(
            "LOCK", self.base + INDEX_FILE, idempotent=True, data=_LOCK_BODY,
            headers=self._headers({"Content-Type": "application/xml; charset=utf-8", "Depth": "0",
                                   "Timeout": f"Second-{LOCK_TIMEOUT}"}))
        if response.status_code == 423:
            return None
        self._check(response, f"locking {INDEX_FILE}")
        token = response.headers.get("Lock-Token", "").strip()
        if response.status_code not in (200, 201) or not token:
            raise StaticRepoError(f"{sanitize_url(self.base + INDEX_FILE)}: LOCK answered HTTP "
                                  f"{response.status_code} without a lock token")
        return token.strip("<>")

    def _unlock(self, token: str) -> None:
        # Best effort: a lock we fail to release expires after LOCK_TIMEOUT seconds.
        with contextlib.suppress(ChartgenError):
            self.http.request("UNLOCK", self.base + INDEX_FILE, idempotent=True,
                              headers=self._headers({"Lock-Token": f"<{token}>"}))

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
        # 2. the index
        return self._update_index(archive, archive_url, reference)

    def _update_index(self, archive: ChartArchive, archive_url: str, reference: str) -> PublishResult:
        """Compare-and-swap the index, under a WebDAV lock where the server offers one; retry on 412/423."""
        locking = self._supports_locking()
        deadline = time.monotonic() + LOCK_TIMEOUT + 15  # long enough to outwait an orphaned lock
        for attempt in range(MAX_INDEX_ATTEMPTS):
            if attempt and time.monotonic() > deadline:
                break
            token = self._lock() if locking else None
            if locking and token is None:
                self._backoff(attempt)  # another publisher holds the lock
                continue
            try:
                index, etag = self._read_index(locked=token is not None)
                if index is None:
                    if not self.options.init:
                        raise StaticRepoError(f"{sanitize_url(self.base + INDEX_FILE)} disappeared while "
                                              "publishing; re-run (pass --init only to start a new repository)")
                    index = IndexFile()
                current = index.get(archive.name, archive.version)
                if current is not None and current.digest != archive.digest and not self.options.force:
                    # Someone published this version with other content between our checks: theirs stays.
                    decided = existing_outcome(archive, current.digest, self.options, reference)
                    assert decided is not None
                    return decided
                if current is not None and current.digest == archive.digest and current.urls == [archive_url]:
                    return PublishResult(archive.name, archive.version, PUSHED, reference, archive.digest,
                                         "index entry already present")
                index.put(ChartVersion.from_archive(archive, archive_url))
                headers = {"If-Match": etag} if etag else {"If-None-Match": "*"}
                if token:
                    headers["If"] = f"(<{token}>)"
                # A conditional PUT is safe to retry: if an earlier attempt went through, the ETag no longer
                # matches and the server answers 412, which sends us round the loop to re-read.
                response = self.http.request(
                    "PUT", self.base + INDEX_FILE, idempotent=True, data=index.dumps().encode("utf-8"),
                    headers=self._headers({**headers, "Content-Type": "application/x-yaml"}))
            finally:
                if token:
                    self._unlock(token)
            if response.status_code in (200, 201, 204):
                if token or self._still_listed(archive):
                    return PublishResult(archive.name, archive.version, PUSHED, reference, archive.digest, "")
                continue  # overwritten by a racing writer the server let through: merge again
            if response.status_code not in (412, 423):
                self._check(response, f"writing {INDEX_FILE}")
                raise StaticRepoError(f"{sanitize_url(self.base + INDEX_FILE)}: HTTP {response.status_code} writing "
                                      "the index")
            self._backoff(attempt)  # lost the race: re-read and re-merge
        raise StaticRepoError(f"{sanitize_url(self.base + INDEX_FILE)}: still losing the race after "
                              f"{MAX_INDEX_ATTEMPTS} attempts; the archive is uploaded, re-run to add it to the index")

    def _still_listed(self, archive: ChartArchive) -> bool:
        """Without locks, some servers check If-Match and write non-atomically, so two writers with the
        same ETag can both succeed. Read back after the other writer's PUT has had time to land."""
        self._sleep(VERIFY_DELAY)
        index, _ = self._read_index()
        entry = index.get(archive.name, archive.version) if index else None
        return entry is not None and entry.digest == archive.digest

    def _backoff(self, attempt: int) -> None:
        # Jitter spreads the contenders out; the cap keeps a long queue moving.
        self._sleep(random.uniform(0.02, min(0.05 * (2 ** min(attempt, 5)), 1.0)))


_LOCK_BODY = (b'<?xml version="1.0" encoding="utf-8"?>\n<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
              b"</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>chartgen</D:owner></D:lockinfo>")
