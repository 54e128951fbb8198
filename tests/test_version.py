"""Semantic version bumps: properties against the semver library, text-preserving edits, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import semver
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chartgen.errors import ChartError, InvalidVersionError, UsageError
from chartgen.version import bump, bump_version, parse_version
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "bump"

_ident = st.one_of(st.integers(0, 50).map(str), st.from_regex(r"[a-zA-Z][0-9a-zA-Z-]{0,6}", fullmatch=True))
versions = st.builds(
    lambda ma, mi, pa, pre, build: semver.Version(ma, mi, pa, ".".join(pre) or None, ".".join(build) or None),
    st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
    st.lists(_ident, max_size=3), st.lists(st.from_regex(r"[0-9a-zA-Z-]{1,5}", fullmatch=True), max_size=2))


@given(versions, st.sampled_from(["major", "minor", "patch"]))
@settings(max_examples=400)
def test_major_minor_patch_agree_with_semver(version: semver.Version, part: str) -> None:
    ours = bump_version(version, part)
    assert ours == getattr(version, f"bump_{part}")()
    assert ours > version


@given(versions, st.sampled_from(["rc", "beta", "alpha", "pre-1"]))
@settings(max_examples=400)
def test_prerelease_increases_and_is_valid(version: semver.Version, pre_id: str) -> None:
    try:
        ours = bump_version(version, "prerelease", pre_id)
    except InvalidVersionError:
        # Only allowed when the requested identifier sorts before the current prerelease.
        assert version.prerelease is not None
        assert version.replace(prerelease=f"{pre_id}.0", build=None) <= version
        return
    assert ours > version
    assert semver.Version.parse(str(ours)) == ours
    if version.prerelease is None:
        assert ours == version.bump_patch().replace(prerelease=f"{pre_id}.0")
    elif version.prerelease.split(".")[0] == pre_id:
        assert ours == version.bump_prerelease(pre_id)


@given(versions)
def test_release_drops_the_prerelease(version: semver.Version) -> None:
    assume(version.prerelease is not None)
    ours = bump_version(version, "release")
    assert ours == version.finalize_version() and ours > version and ours.prerelease is None


@pytest.mark.parametrize(("current", "part", "expected"), [
    ("1.2.3", "prerelease", "1.2.4-rc.0"),
    ("1.2.4-rc.0", "prerelease", "1.2.4-rc.1"),
    ("1.2.4-rc.9", "prerelease", "1.2.4-rc.10"),
    ("1.2.4-alpha.3", "prerelease", "1.2.4-rc.0"),
    ("1.2.4-rc.1", "release", "1.2.4"),
    ("1.2.3", "major", "2.0.0"),
    ("1.2.3", "minor", "1.3.0"),
    ("1.2.3", "patch", "1.2.4"),
    ("1.0.0+build.7", "patch", "1.0.1"),
])
def test_examples(current: str, part: str, expected: str) -> None:
    assert str(bump_version(semver.Version.parse(current), part)) == expected


def test_release_of_a_release_and_backwards_pre_id() -> None:
    with pytest.raises(InvalidVersionError, match="already a release"):
        bump_version(semver.Version.parse("1.2.3"), "release")
    with pytest.raises(InvalidVersionError, match="sorts before"):
        bump_version(semver.Version.parse("1.2.4-rc.0"), "prerelease", "alpha")
    with pytest.raises(UsageError, match="pre-id"):
        bump_version(semver.Version.parse("1.2.3"), "prerelease", "7")


@pytest.mark.parametrize("bad", ["v1.2.3", "1.2", "01.2.3", "1.2.3-01", "garbage", "1.2.3.4", "", " 1.2.3"])
def test_strict_semver(bad: str) -> None:
    with pytest.raises(InvalidVersionError, match="not strict SemVer"):
        parse_version(bad)


def test_golden_only_the_version_lines_change(tmp_path: Path) -> None:
    chart = tmp_path / "odd"
    chart.mkdir()
    shutil.copy(GOLDEN / "Chart.yaml", chart / "Chart.yaml")
    [result] = bump([chart], "minor", app_version="5.0.0")
    assert (result.old_version, result.new_version) == ("1.2.3", "1.3.0")
    assert (result.old_app_version, result.new_app_version) == ("4.5.6", "5.0.0")
    assert (chart / "Chart.yaml").read_bytes() == (GOLDEN / "Chart.minor-app.yaml").read_bytes()


def test_crlf_and_unquoted_app_version(tmp_path: Path) -> None:
    chart = tmp_path / "c"
    chart.mkdir()
    original = b"apiVersion: v2\r\nname: c\r\nversion: 0.9.0\r\nappVersion: 1.0.0 # tag\r\n"
    (chart / "Chart.yaml").write_bytes(original)
    bump([chart], "patch", app_version="1.0.1")
    assert (chart / "Chart.yaml").read_bytes() == original.replace(b"0.9.0", b"0.9.1").replace(
        b"appVersion: 1.0.0", b'appVersion: "1.0.1"')


def test_app_version_added_when_missing(tmp_path: Path) -> None:
    chart = tmp_path / "c"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\ntype: application\n")
    bump([chart], "patch", app_version="2.0.0")
    assert (chart / "Chart.yaml").read_text() == ('apiVersion: v2\nname: c\nversion: 1.0.1\nappVersion: "2.0.0"\n'
                                                  "type: application\n")


@pytest.mark.parametrize(("content", "message", "error"), [
    ("apiVersion: v2\nname: c\nversion: v1.2.3\n", "drop the 'v' prefix", InvalidVersionError),
    ("apiVersion: v2\nname: c\nversion: 1.2\n", "all three parts", InvalidVersionError),
    ("apiVersion: v2\nname: c\nversion: 01.2.3\n", "not strict SemVer", InvalidVersionError),
    ("apiVersion: v2\nname: c\nversion: [1, 2]\n", "not strict SemVer", InvalidVersionError),
    ("apiVersion: v2\nname: c\n", "no version field", ChartError),
    ("{apiVersion: v2, name: c, version: 1.2.3}\n", "no top-level 'version: VALUE' line", ChartError),
    ("apiVersion: v2\nname: c\nversion: 1.2.3\nversion: 1.2.4\n", "2 top-level 'version:' lines", ChartError),
    ("apiVersion: v2\nname: c\nversion: |\n  1.2.3\n", "not strict SemVer", InvalidVersionError),
])
def test_bad_charts_are_untouched(tmp_path: Path, content: str, message: str, error: type, run_cli) -> None:
    chart = tmp_path / "c"
    chart.mkdir()
    (chart / "Chart.yaml").write_text(content)
    with pytest.raises((error, InvalidVersionError, ChartError), match=message):
        bump([chart], "patch")
    result = run_cli("bump", str(chart), "patch")
    assert result.exit_code in (1, 2) and result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert (chart / "Chart.yaml").read_text() == content


def test_all_or_nothing_across_charts(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    for chart, version in ((good, "1.0.0"), (bad, "1.0")):
        chart.mkdir()
        (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {chart.name}\nversion: {version}\n")
    with pytest.raises(InvalidVersionError):
        bump([good, bad], "minor")
    assert "version: 1.0.0\n" in (good / "Chart.yaml").read_text()


def test_cli_to_dry_run_json_and_build_metadata(tmp_path: Path, hello_chart: Path, run_cli) -> None:
    chart = tmp_path / "hello-go"
    shutil.copytree(hello_chart, chart)
    before = (chart / "Chart.yaml").read_text()
    result = run_cli("-o", "json", "bump", str(chart), "--to", "1.0.0+build.5", "--dry-run")
    assert result.exit_code == 0
    [doc] = json.loads(result.stdout)["charts"]
    assert doc["old_version"] == "0.1.0" and doc["new_version"] == "1.0.0+build.5" and doc["dry_run"] is True
    assert "1.0.0_build.5" in doc["warnings"][0]
    assert (chart / "Chart.yaml").read_text() == before
    assert run_cli("bump", str(chart), "--to", "0.0.9").exit_code == 2
    assert run_cli("bump", str(chart), "--to", "0.0.9", "--force").exit_code == 0
    assert "version: 0.0.9" in (chart / "Chart.yaml").read_text()
    both = run_cli("bump", str(chart), "patch", "--to", "2.0.0")
    assert both.exit_code == 2 and "either" in both.stderr
    assert run_cli("bump", "patch").exit_code == 2
    assert run_cli("bump", str(chart), "patch", "--app-version", "bad tag").exit_code == 2
