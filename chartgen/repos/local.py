"""A chart repository in a local directory (``file://DIR``): archives plus index.yaml.

The copy and the index update happen under an exclusive lock on DIR/.chartgen.lock, so
concurrent publishers on one machine lose no entry; both writes are atomic renames.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from chartgen.archive import ChartArchive, read_chart_archive
from chartgen.errors import ChartgenError, UsageError
from chartgen.index import INDEX_FILE, ChartVersion, IndexFile
from chartgen.repos.base import PUSHED, PublishResult, PushOptions, existing_outcome

LOCK_FILE = ".chartgen.lock"


def parse_file_url(url: str) -> Path:
    """``file:///abs/dir`` or ``file://relative/dir`` -> a path."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "file" or parts.query or parts.fragment:
        raise UsageError(f"{url!r} is not a file:// repository URL: use file:///absolute/dir or file://relative/dir")
    path = urllib.parse.unquote(parts.netloc + parts.path) if parts.netloc else urllib.parse.unquote(parts.path)
    if not path:
        raise UsageError(f"{url!r} names no directory")
    return Path(path)


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on the repository directory (blocks until the other publisher is done)."""
    with open(directory / LOCK_FILE, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class LocalPusher:
    """Publishes into a directory repository (created if missing)."""

    def __init__(self, url: str, options: PushOptions) -> None:
        self.directory = parse_file_url(url)
        self.options = options

    def push(self, archive: ChartArchive) -> PublishResult:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ChartgenError(f"cannot create the repository directory {self.directory}: {exc.strerror}") from None
        file_name = f"{archive.name}-{archive.version}.tgz"
        target = self.directory / file_name
        reference = f"file://{self.directory.resolve()}/{file_name}"
        with locked(self.directory):
            index_path = self.directory / INDEX_FILE
            index = IndexFile.load(index_path) if index_path.exists() else IndexFile()
            entry = index.get(archive.name, archive.version)
            existing = entry.digest if entry else None
            if existing is None and target.exists():
                existing = read_chart_archive(target).digest  # an archive left without its index entry
            decided = existing_outcome(archive, existing, self.options, reference)
            if decided is not None:
                if entry is None and existing == archive.digest:
                    # A previous run copied the archive but did not get to the index: finish its work.
                    index.put(ChartVersion.from_archive(archive, file_name))
                    index.write(index_path)
                    decided.message = "the archive was already there; its index entry is added now"
                return decided
            if Path(archive.path).resolve() != target.resolve():
                fd, tmp = tempfile.mkstemp(prefix=f".{file_name}.", suffix=".tmp", dir=self.directory)
                os.close(fd)
                try:
                    shutil.copyfile(archive.path, tmp)
                    os.chmod(tmp, 0o644)
                    os.replace(tmp, target)
                except OSError as exc:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                    raise ChartgenError(f"cannot copy {archive.path} to {target}: {exc.strerror}") from None
            index.put(ChartVersion.from_archive(archive, file_name))
            index.write(index_path)
        return PublishResult(archive.name, archive.version, PUSHED, reference, archive.digest, "")
