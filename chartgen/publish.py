"""``publish()``: send chart archives to a repository, idempotently; one Pusher per kind of repository."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from chartgen.archive import ChartArchive, read_chart_archive
from chartgen.errors import ChartgenError, UsageError
from chartgen.http import HttpClient, HttpSettings
from chartgen.repos.base import FAILED, PublishResult, Pusher, PushOptions

KINDS = ("auto", "oci", "chartmuseum", "static", "local")


def repo_host(url: str) -> str | None:
    """host[:port] of a repository URL (what credentials are looked up by); None for file://."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return None
    return parts.netloc.rsplit("@", 1)[-1] or None


def detect_kind(url: str, kind: str, http: HttpClient, options: PushOptions) -> str:
    """The repository kind: from --repo-kind, else from the URL (oci://, file://), else by asking the server."""
    scheme = urllib.parse.urlsplit(url).scheme
    if kind != "auto":
        expected = {"oci": ("oci",), "local": ("file",), "chartmuseum": ("http", "https"), "static": ("http", "https")}
        if scheme not in expected[kind]:
            raise UsageError(f"--repo-kind {kind} does not match the URL scheme {scheme}://")
        return kind
    if scheme == "oci":
        return "oci"
    if scheme == "file":
        return "local"
    if scheme not in ("http", "https"):
        raise UsageError(f"unsupported repository URL {url!r}: use oci://, http(s):// or file://")
    from chartgen.repos.chartmuseum import is_chartmuseum

    return "chartmuseum" if is_chartmuseum(url, http, options) else "static"


def make_pusher(url: str, kind: str, options: PushOptions, http: HttpClient) -> Pusher:
    if kind == "oci":
        from chartgen.repos.oci import OciPusher

        return OciPusher(url, options, http)
    if kind == "local":
        from chartgen.repos.local import LocalPusher

        return LocalPusher(url, options)
    if kind == "chartmuseum":
        from chartgen.repos.chartmuseum import ChartMuseumPusher

        return ChartMuseumPusher(url, options, http)
    from chartgen.repos.static import StaticPusher

    return StaticPusher(url, options, http)


def publish(archives: list[str | Path], repo: str, *, kind: str = "auto", options: PushOptions | None = None,
            progress: Callable[[int, int, ChartArchive], None] | None = None, timeout: float | None = None,
            jobs: int = 1) -> list[PublishResult]:
    """Publish each archive to ``repo``; every archive is read (safely) before anything is sent.

    Returns one result per archive, in order: pushed, skipped (already there with the same digest,
    or --skip-existing), refused (there with another digest, without --force) or failed. With
    ``jobs`` > 1 archives are pushed in parallel through the one pusher and HTTP session.
    """
    if kind not in KINDS:
        raise UsageError(f"--repo-kind {kind!r}: use one of {', '.join(KINDS)}")
    if not archives:
        raise UsageError("give at least one chart archive")
    options = options or PushOptions()
    if options.force and options.skip_existing:
        raise UsageError("--force and --skip-existing are exclusive")
    read = [read_chart_archive(path) for path in archives]
    seen: dict[tuple[str, str], str] = {}
    for archive in read:
        key = (archive.name, archive.version)
        if key in seen and seen[key] != archive.digest:
            raise UsageError(f"{archive.name} {archive.version} is given twice with different content")
        seen[key] = archive.digest
    verify: bool | str = options.ca_file or not options.insecure_skip_tls_verify
    if options.ca_file and not Path(options.ca_file).is_file():
        raise UsageError(f"--ca-file {options.ca_file}: no such file")
    settings = HttpSettings(verify=verify)
    if timeout is not None:
        if timeout <= 0:
            raise UsageError("--timeout must be a positive number of seconds")
        settings.connect_timeout = min(settings.connect_timeout, timeout)
        settings.read_timeout = timeout
    http = HttpClient(settings)
    try:
        pusher = make_pusher(repo, detect_kind(repo, kind, http, options), options, http)

        def push(numbered: tuple[int, ChartArchive]) -> PublishResult:
            i, archive = numbered
            if progress:
                progress(i, len(read), archive)
            try:
                return pusher.push(archive)
            except ChartgenError as exc:
                return PublishResult(archive.name, archive.version, FAILED, repo_reference(repo), "", exc.message)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(push, enumerate(read, 1)))
    finally:
        http.close()


def repo_reference(url: str) -> str:
    from chartgen.http import sanitize_url

    return url if url.startswith(("oci://", "file://")) else sanitize_url(url)
