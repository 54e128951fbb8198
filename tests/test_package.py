"""Reproducible packaging: byte-identical archives, Helm's layout, accepted by helm 3 and helm 4."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from chartgen.archive import package_chart, package_charts, read_chart_archive
from chartgen.errors import ChartError, ChartgenError
from tests.conftest import tree
from tests.helmutil import helm_run


def sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def copy_in_random_order(src: Path, dst: Path, seed: int) -> None:
    """Recreate ``src`` at ``dst`` creating files in a shuffled order (directory order differs)."""
    files = [p for p in src.rglob("*") if p.is_file()]
    random.Random(seed).shuffle(files)
    for path in files:
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())


def test_same_content_same_bytes(hello_chart: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = package_chart(hello_chart, tmp_path / "a")
    # Another copy: files created in another order, another umask, other mtimes.
    old_umask = os.umask(0o077)
    try:
        copy_in_random_order(hello_chart, tmp_path / "copy" / "hello-go", seed=7)
    finally:
        os.umask(old_umask)
    for i, path in enumerate(sorted((tmp_path / "copy").rglob("*"))):
        os.utime(path, (1_000_000 + i * 7919, 2_000_000_000 - i * 104729))
    time.sleep(0.01)
    second = package_chart(tmp_path / "copy" / "hello-go", tmp_path / "b")
    assert first.digest == second.digest == sha(second.path)
    assert Path(first.path).read_bytes() == Path(second.path).read_bytes()
    # Touching every file again changes nothing either.
    for path in (tmp_path / "copy").rglob("*"):
        path.touch()
    assert package_chart(tmp_path / "copy" / "hello-go", tmp_path / "c").digest == first.digest


def test_archive_layout_and_normalised_headers(hello_chart: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    result = package_chart(hello_chart, tmp_path)
    assert Path(result.path).name == "hello-go-0.1.0.tgz"
    raw = Path(result.path).read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[3] & 0x08 == 0, "gzip header must carry no file name"
    assert raw[4:8] == b"\0\0\0\0", "gzip header must carry no time"
    with tarfile.open(result.path) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert all(n.startswith("hello-go/") for n in names)
    assert "hello-go/Chart.yaml" in names and "hello-go/templates/deployment.yaml" in names
    assert "hello-go/.helmignore" in names
    for member in members:
        assert member.isreg() and member.mode == 0o644 and member.uid == member.gid == 0
        assert member.uname == member.gname == "" and member.mtime == 315532800


def test_source_date_epoch(hello_chart: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = package_chart(hello_chart, tmp_path / "a")
    with tarfile.open(a.path) as tar:
        assert {m.mtime for m in tar.getmembers()} == {1700000000}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000001")
    assert package_chart(hello_chart, tmp_path / "b").digest != a.digest
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ChartgenError, match="SOURCE_DATE_EPOCH"):
        package_chart(hello_chart, tmp_path / "c")


def test_archive_reads_back(hello_chart: Path, tmp_path: Path) -> None:
    result = package_chart(hello_chart, tmp_path)
    archive = read_chart_archive(result.path)
    assert (archive.name, archive.version, archive.digest) == ("hello-go", "0.1.0", result.digest)
    assert archive.files["values.yaml"] == (hello_chart / "values.yaml").read_bytes()
    assert len(archive.files) == result.files == len([p for p in tree(hello_chart) if (hello_chart / p).is_file()])


@pytest.mark.helm
def test_helm_accepts_the_archive(helm: str, hello_chart: Path, tmp_path: Path) -> None:
    path = package_chart(hello_chart, tmp_path).path
    shown = helm_run(helm, "show", "chart", path).stdout
    assert "name: hello-go" in shown and "version: 0.1.0" in shown
    assert "1 chart(s) linted, 0 chart(s) failed" in helm_run(helm, "lint", "--strict", path).stdout
    assert "kind: Deployment" in helm_run(helm, "template", "rel", path).stdout
    values = helm_run(helm, "show", "values", path).stdout
    assert values.rstrip("\n") == (hello_chart / "values.yaml").read_text().rstrip("\n")


@pytest.mark.helm
def test_helm4_install_dry_run_client(helm4: str, hello_chart: Path, tmp_path: Path) -> None:
    """helm 4 renders an install without a cluster; helm 3.17 needs one (issue: install on a real API server)."""
    path = package_chart(hello_chart, tmp_path).path
    out = helm_run(helm4, "install", "rel", path, "--dry-run=client", "-f", str(hello_chart / "values-prod.yaml"))
    assert "kind: HorizontalPodAutoscaler" in out.stdout


HELMIGNORE = """\
# comment
*.bak
/secret.txt
docs/
!keep.bak
"""


def make_ignore_chart(root: Path, helmignore: str = HELMIGNORE) -> Path:
    chart = root / "ign"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: ign\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("a: 1\n")
    (chart / ".helmignore").write_text(helmignore)
    for rel in ["a.bak", "keep.bak", "secret.txt", "sub/secret.txt", "docs/readme.md", "sub/docs/x.md",
                "templates/.hidden", "templates/cm.yaml", "files/data.txt", "sub/b.bak", "notes.txt"]:
        path = chart / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {rel}\n")
    return chart


@pytest.mark.helm
@pytest.mark.parametrize("helmignore", [
    "*.bak\n/secret.txt\ndocs/\n",
    "sub/*\n[a-c]*.bak\nnotes.tx?\n",
    "",
    "# only a comment\n\n/notes.txt\nsub/\n",
], ids=["plain", "classes", "empty", "anchored-and-dir"])
def test_helmignore_matches_helm(helm4: str, tmp_path: Path, helmignore: str) -> None:
    """The files chartgen packages are exactly the files helm packages, for the same .helmignore."""
    chart = make_ignore_chart(tmp_path, helmignore)
    ours = package_chart(chart, tmp_path / "ours").path
    helm_run(helm4, "package", str(chart), "-d", str(tmp_path / "helm"))
    theirs = tmp_path / "helm" / "ign-1.0.0.tgz"
    with tarfile.open(ours) as a, tarfile.open(theirs) as b:
        assert sorted(a.getnames()) == sorted(b.getnames())


@pytest.mark.helm
def test_helmignore_negation_quirk_matches_helm(helm4: str, tmp_path: Path) -> None:
    """Helm reads '!p' as 'ignore all that does not match p' (Chart.yaml included): both refuse."""
    chart = make_ignore_chart(tmp_path, HELMIGNORE)
    with pytest.raises(ChartError, match="does not match pattern"):
        package_chart(chart, tmp_path / "ours")
    proc = helm_run(helm4, "package", str(chart), "-d", str(tmp_path / "helm"), check=False)
    assert proc.returncode != 0 and "Chart.yaml file is missing" in proc.stderr


def test_helmignore_double_star_is_refused(tmp_path: Path) -> None:
    chart = make_ignore_chart(tmp_path, "**/*.bak\n")
    with pytest.raises(ChartError, match=r"double-star"):
        package_chart(chart, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_charts_write_nothing(tmp_path: Path, hello_chart: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Chart.yaml").write_text("apiVersion: v2\nname: bad\nversion: v1.0\n")
    with pytest.raises(ChartError, match="SemVer"):
        package_charts([hello_chart, bad], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    (bad / "Chart.yaml").write_text("apiVersion: v2\nname: bad\nversion: 1.0.0\ndependencies:\n- name: redis\n"
                                    "  version: 1.x\n  repository: https://example.invalid\n")
    with pytest.raises(ChartError, match="helm dependency build"):
        package_charts([bad], tmp_path / "out")
    (bad / "Chart.yaml").unlink()
    with pytest.raises(ChartError, match=r"no Chart\.yaml"):
        package_charts([bad], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_vendored_dependency_is_included(tmp_path: Path, hello_chart: Path) -> None:
    parent = tmp_path / "parent"
    (parent / "charts").mkdir(parents=True)
    (parent / "Chart.yaml").write_text("apiVersion: v2\nname: parent\nversion: 0.2.0\ndependencies:\n"
                                       "- name: hello-go\n  version: 0.1.0\n  repository: file://../hello-go\n")
    package_chart(hello_chart, parent / "charts")
    result = package_chart(parent, tmp_path / "out")
    archive = read_chart_archive(result.path)
    assert "charts/hello-go-0.1.0.tgz" in archive.files


def test_irregular_and_oversized_files_are_refused(tmp_path: Path) -> None:
    chart = make_ignore_chart(tmp_path, "")
    os.mkfifo(chart / "pipe")
    with pytest.raises(ChartError, match="not a regular file"):
        package_chart(chart, tmp_path / "out")
    (chart / "pipe").unlink()
    (chart / "big.bin").write_bytes(b"\0" * (5 * 1024 * 1024 + 1))
    with pytest.raises(ChartError, match="limit"):
        package_chart(chart, tmp_path / "out")
    (chart / "big.bin").unlink()
    (chart / "loop").symlink_to(chart)
    with pytest.raises(ChartError, match="symlink loop"):
        package_chart(chart, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_package(tmp_path: Path, hello_chart: Path, run_cli) -> None:
    result = run_cli("package", str(hello_chart), "-d", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout.strip() == str(tmp_path / "hello-go-0.1.0.tgz")
    result = run_cli("-o", "json", "package", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert "not a directory" in result.stderr
    shutil.rmtree(tmp_path / "nope", ignore_errors=True)
