"""Reproducible chart packaging and safe reading of chart archives (.tgz).

Packaging: the same chart content gives a byte-identical archive whatever the file mtimes,
owners, umask or directory order: entries are sorted, there are no directory entries (as in
Helm's archives), every entry is a 0644 regular file owned by 0:0 with a fixed time
(``SOURCE_DATE_EPOCH`` when set, else 1980-01-01), and the gzip header has no name and no
time. The layout is Helm's: ``NAME/Chart.yaml``, ``NAME/templates/...``, ``NAME/charts/...``.

Reading: archives come from other people (repositories, registries). They are streamed, never
extracted: only regular files, no absolute or parent paths, no links or devices, at most
:data:`MAX_FILE_SIZE` per file and :data:`MAX_TOTAL_SIZE` decompressed in total (Helm's limits),
counted on the bytes actually inflated rather than trusting header sizes.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import re
import stat
import tarfile
import tempfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from chartgen.chart import CHART_FILE, CHARTS_DIR, Metadata
from chartgen.errors import ChartError, ChartgenError
from chartgen.ignore import Rules

#: Helm's limits (pkg/chart/loader/archive): 100 MiB decompressed in total, 5 MiB per file.
MAX_TOTAL_SIZE = 100 * 1024 * 1024
MAX_FILE_SIZE = 5 * 1024 * 1024
#: Entry time when SOURCE_DATE_EPOCH is not set: 1980-01-01T00:00:00Z (as reproducible wheels use).
DEFAULT_EPOCH = 315532800
_UTF8_BOM = b"\xef\xbb\xbf"


class ArchiveError(ChartgenError):
    """A chart archive is unreadable, malformed or hostile."""


@dataclass
class PackageResult:
    """One archive written by :func:`package_chart`."""

    name: str
    version: str
    path: str
    digest: str
    size: int
    files: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChartArchive:
    """A chart archive read safely: its metadata, files (chart-relative) and sha256 digest."""

    path: str
    metadata: Metadata
    digest: str
    size: int
    files: dict[str, bytes] = field(repr=False, default_factory=dict)

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def version(self) -> str:
        return self.metadata.version


def source_date_epoch() -> int:
    """Entry time for archives: ``SOURCE_DATE_EPOCH`` if set and valid, else :data:`DEFAULT_EPOCH`."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return DEFAULT_EPOCH
    if not value.isdigit():
        raise ChartgenError(f"SOURCE_DATE_EPOCH={value!r} is not a number of seconds since 1970; unset or fix it")
    return int(value)


# --- packaging ----------------------------------------------------------------------------

def chart_files(chart_dir: Path) -> dict[str, bytes]:
    """The files Helm would package from ``chart_dir``: .helmignore honoured, sorted by path.

    Symlinks are followed as Helm does; directory cycles, irregular files and files over
    :data:`MAX_FILE_SIZE` are refused.
    """
    rules = Rules.load(chart_dir)
    files: dict[str, bytes] = {}
    seen_dirs: set[tuple[int, int]] = set()

    def walk(directory: Path, prefix: str) -> None:
        info = directory.stat()
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            raise ChartError(f"{directory}: symlink loop in the chart directory")
        seen_dirs.add(key)
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            raise ChartError(f"{directory}: cannot list: {exc.strerror}") from None
        for name in names:
            path = directory / name
            rel = f"{prefix}{name}"
            try:
                st = path.stat()
            except OSError:
                if rules.ignored(rel, is_dir=False):
                    continue
                raise ChartError(f"{path}: broken symlink or unreadable file; remove it or add it to "
                                 ".helmignore") from None
            if stat.S_ISDIR(st.st_mode):
                if not rules.ignored(rel, is_dir=True):
                    walk(path, rel + "/")
                continue
            if rules.ignored(rel, is_dir=False):
                continue
            if not stat.S_ISREG(st.st_mode):
                raise ChartError(f"{path}: not a regular file (device, socket or pipe); remove it or add it to "
                                 ".helmignore")
            if st.st_size > MAX_FILE_SIZE:
                raise ChartError(f"{path}: {st.st_size} bytes is over Helm's {MAX_FILE_SIZE}-byte limit per "
                                 "chart file; add it to .helmignore")
            data = path.read_bytes()
            files[rel] = data[len(_UTF8_BOM):] if data.startswith(_UTF8_BOM) else data

    walk(chart_dir, "")
    return dict(sorted(files.items()))


def _check_dependencies(chart_dir: Path, metadata: Metadata, files: dict[str, bytes]) -> None:
    """Every dependency of Chart.yaml must be vendored in charts/ (as ``helm package`` requires)."""
    deps = metadata.raw.get("dependencies") or []
    if not isinstance(deps, list):
        raise ChartError(f"{chart_dir / CHART_FILE}: dependencies must be a list")
    vendored = set()
    for rel in files:
        parts = rel.split("/")
        if len(parts) >= 3 and parts[0] == CHARTS_DIR and parts[2] == CHART_FILE:
            vendored.add(parts[1])
        elif len(parts) == 2 and parts[0] == CHARTS_DIR and parts[1].endswith(".tgz"):
            vendored.add(re.sub(r"-v?\d+\.\d+\.\d+.*\.tgz$", "", parts[1]))
    for dep in deps:
        name = dep.get("name") if isinstance(dep, dict) else None
        if not name:
            raise ChartError(f"{chart_dir / CHART_FILE}: a dependency has no name")
        if name not in vendored:
            raise ChartError(f"{chart_dir}: dependency {name!r} is in Chart.yaml but missing in charts/: run "
                             f"`helm dependency build {chart_dir}` first")


def build_archive(name: str, files: dict[str, bytes], mtime: int) -> bytes:
    """The deterministic .tgz bytes of a chart's files."""
    raw = io.BytesIO()
    # No file name and mtime 0 in the gzip header; compresslevel fixed.
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in sorted(files):
            data = files[rel]
            info = tarfile.TarInfo(f"{name}/{rel}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _build(chart_dir: str | os.PathLike[str], extra: dict[str, bytes] | None = None,
           ) -> tuple[Metadata, dict[str, bytes], bytes]:
    chart_path = Path(chart_dir)
    if not chart_path.is_dir():
        raise ChartError(f"{chart_path}: not a directory; give the path of a chart directory")
    metadata = Metadata.load(chart_path)
    files = chart_files(chart_path)
    files = dict(sorted({**files, **(extra or {})}.items()))
    if CHART_FILE not in files:
        hint = ("; note that Helm reads a '!pattern' rule as 'ignore everything that does not match pattern'"
                if any(rule.negate for rule in Rules.load(chart_path).rules) else "")
        raise ChartError(f"{chart_path}: Chart.yaml is excluded by .helmignore; remove that rule{hint}")
    _check_dependencies(chart_path, metadata, files)
    return metadata, files, build_archive(metadata.name, files, source_date_epoch())


def package_charts(chart_dirs: list[str | os.PathLike[str]], dest: str | os.PathLike[str] = ".",
                   extra_files: dict[str, dict[str, bytes]] | None = None) -> list[PackageResult]:
    """Package each chart into ``dest/NAME-VERSION.tgz``, reproducibly.

    Every chart is read, validated and archived in memory first; only then are the archives
    written (each atomically), so a bad chart leaves no archive of the others behind either.
    ``extra_files`` adds files to a chart's archive (by chart dir), e.g. vendored dependencies.
    """
    built = [_build(d, (extra_files or {}).get(str(d))) for d in chart_dirs]
    names = [f"{m.name}-{m.version}.tgz" for m, _, _ in built]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ChartError(f"two charts would both be written to {', '.join(duplicates)}; package them separately")
    dest_dir = Path(dest)
    if dest_dir.exists() and not dest_dir.is_dir():
        raise ChartgenError(f"{dest_dir} is not a directory: choose another destination (-d)")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ChartgenError(f"cannot create {dest_dir}: {exc.strerror}") from None
    results = []
    for (metadata, files, data), name in zip(built, names, strict=True):
        target = dest_dir / name
        atomic_write_bytes(target, data)
        results.append(PackageResult(name=metadata.name, version=metadata.version, path=str(target),
                                     digest=hashlib.sha256(data).hexdigest(), size=len(data), files=len(files)))
    return results


def package_chart(chart_dir: str | os.PathLike[str], dest: str | os.PathLike[str] = ".") -> PackageResult:
    """Package one chart (see :func:`package_charts`)."""
    return package_charts([chart_dir], dest)[0]


def atomic_write_bytes(target: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``target`` via a temporary file in the same directory and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ChartgenError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise


# --- safe reading -------------------------------------------------------------------------

class _InflateLimit(io.RawIOBase):
    """A readable stream that gunzips ``source`` and refuses to inflate past ``limit`` bytes.

    Output is produced at most one read buffer at a time (``max_length``), so a gzip bomb
    costs bounded memory and stops at the limit. Concatenated gzip members are read in turn,
    as Go's gzip reader (and so Helm) does.
    """

    def __init__(self, source: BinaryIO, limit: int, label: str) -> None:
        self._source = source
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._limit = limit
        self._label = label
        self._total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        view = memoryview(target).cast("B")
        want = len(view)
        while True:
            if self._inflater.eof:
                rest = self._inflater.unused_data + self._pending
                self._pending = b""
                if not rest:
                    rest = self._source.read(64 * 1024)
                if not rest:
                    return 0
                self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._pending = rest
            data_in = self._pending or self._source.read(64 * 1024)
            if not data_in:
                raise ArchiveError(f"{self._label}: truncated gzip data; the archive is incomplete")
            try:
                out = self._inflater.decompress(data_in, want)
            except zlib.error as exc:
                raise ArchiveError(f"{self._label}: corrupt gzip data ({exc})") from None
            self._pending = self._inflater.unconsumed_tail
            if out:
                self._total += len(out)
                if self._total > self._limit:
                    raise ArchiveError(f"{self._label}: decompresses to more than {self._limit} bytes "
                                       "(Helm's limit); refusing it")
                view[: len(out)] = out
                return len(out)


def _safe_member_name(name: str, label: str) -> list[str]:
    if "\\" in name or "\x00" in name:
        raise ArchiveError(f"{label}: entry {name!r} has a backslash or NUL in its path; refusing the archive")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise ArchiveError(f"{label}: entry {name!r} has an absolute path; refusing the archive")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ArchiveError(f"{label}: entry {name!r} points outside the chart ('..'); refusing the archive")
    return parts


def read_chart_archive(path: str | os.PathLike[str], *, check_filename: bool = True,
                       max_total: int = MAX_TOTAL_SIZE, max_file: int = MAX_FILE_SIZE) -> ChartArchive:
    """Read a chart .tgz safely and return its metadata, files and digest.

    Never extracts anything; refuses links, devices, absolute or '..' paths, several top
    directories, oversize content and (with ``check_filename``) a file name other than
    ``NAME-VERSION.tgz``.
    """
    file_path = Path(path)
    label = str(file_path)
    try:
        size = file_path.stat().st_size
        fh = file_path.open("rb")
    except OSError as exc:
        raise ArchiveError(f"{label}: cannot open: {exc.strerror}") from None
    with fh:
        magic = fh.read(2)
        if not magic:
            raise ArchiveError(f"{label}: empty file, not a chart archive")
        if magic != b"\x1f\x8b":
            raise ArchiveError(f"{label}: not a gzip file; a chart archive is a .tgz made by `chartgen package` "
                               "or `helm package`")
        fh.seek(0)
        digest = hashlib.sha256()
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
        fh.seek(0)
        files = _read_members(fh, label, max_total, max_file)
    top = {rel.split("/", 1)[0] for rel in files}
    if not files:
        raise ArchiveError(f"{label}: the archive contains no files")
    if len(top) != 1:
        raise ArchiveError(f"{label}: entries are spread over several top directories ({', '.join(sorted(top))}); "
                           "a chart archive has exactly one")
    [top_dir] = top
    chart_files_ = {rel.split("/", 1)[1]: data for rel, data in files.items() if "/" in rel}
    if CHART_FILE not in chart_files_:
        raise ArchiveError(f"{label}: no {top_dir}/{CHART_FILE} in the archive; not a Helm chart")
    try:
        metadata = Metadata.parse(chart_files_[CHART_FILE].decode("utf-8"), f"{label}: {top_dir}/{CHART_FILE}")
    except UnicodeDecodeError:
        raise ArchiveError(f"{label}: {top_dir}/{CHART_FILE} is not UTF-8 text") from None
    except ChartgenError as exc:
        raise ArchiveError(exc.message) from None
    if check_filename:
        expected = f"{metadata.name}-{metadata.version}.tgz"
        if file_path.name != expected:
            raise ArchiveError(f"{label}: the file name does not match its Chart.yaml (name {metadata.name}, "
                               f"version {metadata.version}): expected {expected}")
    return ChartArchive(path=label, metadata=metadata, digest=digest.hexdigest(), size=size, files=chart_files_)


class _StrictTarInfo(tarfile.TarInfo):
    """Python's tarfile takes an invalid header after the first entry for the end of the archive,
    silently dropping what follows (a lying size field does exactly that). Go's reader, and so
    Helm, fails instead; so do we."""

    @classmethod
    def fromtarfile(cls, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        try:
            return super().fromtarfile(tarfile_)
        except tarfile.InvalidHeaderError as exc:
            if tarfile_.offset == 0:
                raise
            raise ArchiveError(f"invalid tar header at byte {tarfile_.offset} ({exc}): an entry's size field does "
                               "not match its data; the archive is corrupt") from None
        except tarfile.TruncatedHeaderError:
            raise ArchiveError("the archive ends in the middle of a tar header; it is truncated") from None


def _read_members(fh: BinaryIO, label: str, max_total: int, max_file: int) -> dict[str, bytes]:
    stream = io.BufferedReader(_InflateLimit(fh, max_total, label), buffer_size=64 * 1024)
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=stream, mode="r|", tarinfo=_StrictTarInfo) as tar:
            for member in tar:
                parts = _safe_member_name(member.name, label)
                if member.isdir():
                    continue
                if not member.isreg():
                    kind = ("symlink" if member.issym() else "hard link" if member.islnk()
                            else "FIFO" if member.isfifo() else "device" if member.isdev() else "special file")
                    raise ArchiveError(f"{label}: entry {member.name!r} is a {kind}; only regular files are "
                                       "allowed in a chart archive")
                if not parts:
                    raise ArchiveError(f"{label}: entry with an empty name; refusing the archive")
                if member.size > max_file:
                    raise ArchiveError(f"{label}: entry {member.name!r} is {member.size} bytes, over the "
                                       f"{max_file}-byte limit per file")
                rel = "/".join(parts)
                if rel in files:
                    raise ArchiveError(f"{label}: entry {rel!r} appears twice; refusing an ambiguous archive")
                extracted = tar.extractfile(member)
                if extracted is None:
                    raise ArchiveError(f"{label}: cannot read entry {member.name!r}")
                data = extracted.read(max_file + 1)
                if len(data) != member.size or len(data) > max_file:
                    raise ArchiveError(f"{label}: entry {member.name!r} is shorter or longer than its header "
                                       "says; the archive is corrupt")
                files[rel] = data
    except ArchiveError as exc:
        if not exc.message.startswith(label):
            raise ArchiveError(f"{label}: {exc.message}") from None
        raise
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile) as exc:
        raise ArchiveError(f"{label}: not a valid chart archive ({' '.join(str(exc).split()) or type(exc).__name__})"
                           ) from None
    return files
