"""The one HTTP session of chartgen: timeouts, bounded retries, User-Agent, sanitised URLs.

Every request has connect and read timeouts. Only idempotent steps are retried, on connection
errors, timeouts and 408/429/5xx, with exponential backoff and jitter, honouring Retry-After,
a bounded number of times. Requests that carry credentials never follow redirects (a redirect
could hand the Authorization header to another host). URLs in messages lose their userinfo and
query strings, so no secret reaches an error message.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from chartgen import __version__
from chartgen.errors import ChartgenError

USER_AGENT = f"chartgen/{__version__}"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class NetworkError(ChartgenError):
    """A server could not be reached or kept failing after the retries."""


class AuthError(ChartgenError):
    """The server refused the credentials (401/403)."""


def sanitize_url(url: str) -> str:
    """``url`` without userinfo and query string (both may carry secrets or upload tokens)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass
class HttpSettings:
    """TLS and timing settings of a session."""

    verify: bool | str = True
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 10.0


class HttpClient:
    """A requests session with chartgen's timeouts and retry policy."""

    def __init__(self, settings: HttpSettings | None = None, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings or HttpSettings()
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._session.trust_env = True
        self._sleep = sleep
        if self.settings.verify is False:
            # The user asked for it (--insecure-skip-tls-verify); chartgen's CLI warns once itself.
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    def close(self) -> None:
        self._session.close()

    def request(self, method: str, url: str, *, idempotent: bool, headers: Mapping[str, str] | None = None,
                data: bytes | None = None, files: Any = None, params: Mapping[str, str] | None = None,
                stream: bool = False) -> requests.Response:
        """Send a request; retry it (if ``idempotent``) on transient failures; never raise on HTTP status."""
        carries_credentials = bool(headers and "Authorization" in headers)
        attempts = self.settings.retries + 1 if idempotent else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                # verify is passed on each request: at session level, requests lets REQUESTS_CA_BUNDLE
                # in the environment silently replace a --ca-file.
                response = self._session.request(
                    method, url, headers=dict(headers or {}), data=data, files=files, params=params, stream=stream,
                    timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                    allow_redirects=not carries_credentials, verify=self.settings.verify)
            except requests.exceptions.SSLError as exc:
                raise NetworkError(f"TLS error talking to {sanitize_url(url)}: {_reason(exc)}; pass --ca-file "
                                   "with the server's CA, or --insecure-skip-tls-verify for a test server") from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
                    raise NetworkError(f"{method} {sanitize_url(url)}: {kind} after {attempt + 1} attempt(s) "
                                       f"({_reason(exc)}); check the URL and the network, then re-run "
                                       "(publishing is safe to repeat)") from None
                self._sleep(self._delay(attempt, None))
                continue
            if response.status_code in RETRY_STATUSES and not last:
                delay = self._delay(attempt, response.headers.get("Retry-After"))
                response.close()
                self._sleep(delay)
                continue
            return response
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            seconds = _parse_retry_after(retry_after)
            if seconds is not None:
                return min(seconds, self.settings.max_backoff * 3)
        base = min(self.settings.backoff * (2 ** attempt), self.settings.max_backoff)
        return base / 2 + random.uniform(0, base / 2)


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _reason(exc: Exception) -> str:
    """A short reason without URLs (requests' messages repeat the URL, query string included)."""
    text = str(exc)
    match = re.search(r"certificate verify failed: ([^'(_]*)", text)
    if match:
        return "certificate verify failed: " + match.group(1).strip()
    for marker in ("Caused by ", "(Caused by "):
        if marker in text:
            text = text.split(marker, 1)[1]
    text = text.split("'", 2)[-1] if "Max retries" in text else text
    return " ".join(text.replace("(", " ").replace(")", " ").split())[:200] or type(exc).__name__
