"""Hostile and broken archives are refused quickly, with bounded memory, writing nothing."""

from __future__ import annotations

import gzip
import io
import tarfile
import tracemalloc
import zlib
from pathlib import Path

import pytest

from chartgen.archive import ArchiveError, read_chart_archive
from tests.conftest import tree

CHART_YAML = b"apiVersion: v2\nname: evil\nversion: 1.0.0\n"


def tar_bytes(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()


def reg(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def base() -> list[tuple[tarfile.TarInfo, bytes | None]]:
    return [reg("evil/Chart.yaml", CHART_YAML), reg("evil/values.yaml", b"a: 1\n")]


def write(tmp_path: Path, data: bytes, name: str = "evil-1.0.0.tgz") -> Path:
    path = tmp_path / "in" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


def zero_tar_stream(path: Path, files: int, size: int) -> None:
    """A .tgz of ``files`` zero-filled entries of ``size`` bytes, written streaming (about 1 KB per MB)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zero_block = b"\0" * (1 << 20)
    with path.open("wb") as out:
        def emit(data: bytes) -> None:
            out.write(deflate.compress(data))

        info = tarfile.TarInfo("evil/Chart.yaml")
        info.size = len(CHART_YAML)
        emit(info.tobuf() + CHART_YAML + b"\0" * (512 - len(CHART_YAML)))
        for i in range(files):
            info = tarfile.TarInfo(f"evil/zeros{i}.bin")
            info.size = size
            emit(info.tobuf())
            left = size
            while left:
                n = min(left, len(zero_block))
                emit(zero_block[:n])
                left -= n
        emit(b"\0" * 1024)
        out.write(deflate.flush())


CASES = {
    "path traversal": ([*base(), reg("evil/../../etc/cron.d/x", b"x")], "outside the chart"),
    "absolute path": ([*base(), reg("/etc/passwd", b"x")], "absolute path"),
    "symlink": ([*base(), special("evil/templates/link.yaml", tarfile.SYMTYPE, "/etc/shadow")], "symlink"),
    "hard link": ([*base(), special("evil/templates/hard.yaml", tarfile.LNKTYPE, "evil/Chart.yaml")], "hard link"),
    "char device": ([*base(), special("evil/dev", tarfile.CHRTYPE)], "device"),
    "fifo": ([*base(), special("evil/fifo", tarfile.FIFOTYPE)], "FIFO"),
    "two top dirs": ([*base(), reg("other/x.yaml", b"x")], "several top directories"),
    "duplicate entry": ([*base(), reg("evil/values.yaml", b"b: 2\n")], "appears twice"),
    "no Chart.yaml": ([reg("evil/values.yaml", b"a: 1\n")], "no evil/Chart.yaml"),
    "bad Chart.yaml": ([reg("evil/Chart.yaml", b"apiVersion: v2\nname: evil\nversion: 1.0\n")], "SemVer"),
    "empty tar": ([], "no files"),
    "backslash": ([*base(), reg("evil\\..\\x", b"x")], "backslash"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_hostile_archives_are_refused(case: str, tmp_path: Path) -> None:
    members, message = CASES[case]
    path = write(tmp_path, tar_bytes(members))
    before = tree(tmp_path)
    with pytest.raises(ArchiveError, match=message):
        read_chart_archive(path)
    assert tree(tmp_path) == before


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty file"),
    (b"PK\x03\x04 this is a zip", "not a gzip file"),
    (b"\x1f\x8b\x08\x00garbage-after-magic", "not a valid chart archive|corrupt gzip"),
])
def test_not_gzip(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        read_chart_archive(write(tmp_path, data))


def test_truncated_archive(tmp_path: Path) -> None:
    data = tar_bytes([*base(), reg("evil/big.yaml", b"x" * 100_000)])
    with pytest.raises(ArchiveError, match=r"truncated|not a valid|shorter"):
        read_chart_archive(write(tmp_path, data[: len(data) // 2]))


def test_header_that_lies_about_its_size(tmp_path: Path) -> None:
    # The header says 10 bytes but 2000 follow: the stream desynchronises; never trust the size.
    info = tarfile.TarInfo("evil/templates/liar.yaml")
    info.size = 10
    raw = info.tobuf() + b"A" * 2048
    chart = tarfile.TarInfo("evil/Chart.yaml")
    chart.size = len(CHART_YAML)
    body = chart.tobuf() + CHART_YAML + b"\0" * (512 - len(CHART_YAML)) + raw + b"\0" * 1024
    with pytest.raises(ArchiveError):
        read_chart_archive(write(tmp_path, gzip.compress(body, mtime=0)))
    # A header claiming more than the per-file limit is refused before anything is read.
    info.size = 6 * 1024 * 1024
    body = chart.tobuf() + CHART_YAML + b"\0" * (512 - len(CHART_YAML)) + info.tobuf() + b"A" * 512
    with pytest.raises(ArchiveError, match=r"limit per file"):
        read_chart_archive(write(tmp_path, gzip.compress(body, mtime=0)))


@pytest.fixture(scope="module")
def gzip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1 MB on disk, over 1 GiB inflated: 300 entries of 4 MiB zeros (each under the per-file limit)."""
    path = tmp_path_factory.mktemp("bomb") / "evil-1.0.0.tgz"
    zero_tar_stream(path, files=300, size=4 * 1024 * 1024)
    return path


def refused_peak_memory(path: Path, message: str) -> int:
    """Read ``path``, expect ArchiveError matching ``message``; return the peak Python memory used."""
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveError, match=message):
            read_chart_archive(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_gzip_bomb_is_refused_with_bounded_memory(gzip_bomb: Path, tmp_path: Path) -> None:
    assert gzip_bomb.stat().st_size < 2 * 1024 * 1024
    before = tree(tmp_path)
    # The total limit is 100 MiB of inflated data; what is held at once stays far below it.
    assert refused_peak_memory(gzip_bomb, r"more than 104857600 bytes") < 120 * 1024 * 1024
    assert tree(tmp_path) == before


def test_single_huge_entry_bomb(tmp_path: Path) -> None:
    path = tmp_path / "evil-1.0.0.tgz"
    zero_tar_stream(path, files=1, size=1100 * 1024 * 1024)
    assert path.stat().st_size < 2 * 1024 * 1024
    assert refused_peak_memory(path, r"limit per file") < 16 * 1024 * 1024


def test_file_name_must_match_chart(tmp_path: Path) -> None:
    path = write(tmp_path, tar_bytes(base()), name="evil-2.0.0.tgz")
    with pytest.raises(ArchiveError, match=r"expected evil-1\.0\.0\.tgz"):
        read_chart_archive(path)
    assert read_chart_archive(path, check_filename=False).version == "1.0.0"


def test_directory_entries_and_concatenated_gzip_are_fine(tmp_path: Path) -> None:
    directory = tarfile.TarInfo("evil/templates")
    directory.type = tarfile.DIRTYPE
    data = tar_bytes([(directory, None), *base()])
    archive = read_chart_archive(write(tmp_path, data))
    assert sorted(archive.files) == ["Chart.yaml", "values.yaml"]
    # Two gzip members (Go's reader, and so helm, reads them as one stream).
    body = tarfile_body(base())
    two = gzip.compress(body[:1000], mtime=0) + gzip.compress(body[1000:], mtime=0)
    assert read_chart_archive(write(tmp_path, two)).files["values.yaml"] == b"a: 1\n"


def tarfile_body(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()
