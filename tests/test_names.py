"""Input validation happens before anything is written; failures leave nothing behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from chartgen import chart, create_chart
from chartgen.errors import InvalidNameError, InvalidValueError, InvalidVersionError, TargetExistsError
from tests.conftest import tree

BAD_NAMES = ["My_Service", "-svc", "svc-", "a" * 64, "../x", "a/b", "", "svc.name", "1svc", "svc name", "Svc",
             ".", "..", "/abs", "svc\n"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_and_leave_nothing(name: str, tmp_path: Path, run_cli) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InvalidNameError):
        create_chart(name, out)
    result = run_cli("chart", "create", "--output-dir", str(out), "--", name)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: chart name")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert tree(tmp_path) == ["out"]


@pytest.mark.parametrize("name", ["a", "svc", "my-service-2", "a" * 63, "x1-2-3"])
def test_good_names(name: str) -> None:
    chart.validate_chart_name(name)


def test_long_name_warns_about_fullname_truncation(tmp_path: Path, run_cli) -> None:
    name = "a-very-long-service-name-that-will-be-truncated"  # 47 characters
    assert chart.validate_chart_name("short") == []
    [warning] = chart.validate_chart_name(name)
    assert "truncated to 63" in warning
    result = run_cli("chart", "create", name, "--output-dir", str(tmp_path))
    assert result.exit_code == 0
    assert "Warning:" in result.stderr and "fullnameOverride" in result.stderr


def test_existing_chart_is_not_touched_without_force(tmp_path: Path, run_cli) -> None:
    create_chart("svc", tmp_path)
    marker = tmp_path / "svc" / "values.yaml"
    marker.write_text("# mine\n")
    before = tree(tmp_path)
    with pytest.raises(TargetExistsError):
        create_chart("svc", tmp_path)
    result = run_cli("chart", "create", "svc", "--output-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert marker.read_text() == "# mine\n"
    assert tree(tmp_path) == before


def test_force_replaces_atomically(tmp_path: Path) -> None:
    create_chart("svc", tmp_path, port=9000)
    (tmp_path / "svc" / "stale.txt").write_text("old")
    result = create_chart("svc", tmp_path, port=9100, force=True)
    assert result.replaced
    assert not (tmp_path / "svc" / "stale.txt").exists()
    assert "containerPort: 9100" in (tmp_path / "svc" / "values.yaml").read_text()
    assert tree(tmp_path) == ["svc", *(f"svc/{p}" for p in tree(tmp_path / "svc"))]


def test_output_dir_that_is_a_file(tmp_path: Path, run_cli) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("chart", "create", "svc", "--output-dir", str(blocker / "sub"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert tree(tmp_path) == ["file"]


def test_missing_output_dirs_are_created(tmp_path: Path) -> None:
    result = create_chart("svc", tmp_path / "a" / "b")
    assert Path(result.path, "Chart.yaml").is_file()


def test_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = Path.write_text

    def flaky(self: Path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", flaky)
    with pytest.raises(Exception, match="No space left"):
        create_chart("svc", tmp_path / "new" / "dirs")
    assert tree(tmp_path) == []


def test_unwritable_directory(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions; covered by test_output_dir_that_is_a_file")
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(Exception, match="writable"):
            create_chart("svc", tmp_path)
    finally:
        tmp_path.chmod(0o755)


@pytest.mark.parametrize(("option", "value", "error"), [
    ("image_repository", "Registry.Example.com/UPPER", InvalidValueError),
    ("image_repository", "repo:tag", InvalidValueError),
    ("image_repository", "", InvalidValueError),
    ("app_version", "has space", InvalidVersionError),
    ("app_version", "-dash", InvalidVersionError),
    ("version", "v1.2.3", InvalidVersionError),
    ("version", "1.2", InvalidVersionError),
    ("port", 0, InvalidValueError),
    ("port", 70000, InvalidValueError),
    ("icon", "javascript:alert(1)", InvalidValueError),
    ("icon", "https://", InvalidValueError),
    ("maintainers", ["<jane@example.com>"], InvalidValueError),
    ("maintainers", ["Jane <jane>"], InvalidValueError),
    ("maintainers", ["Jane\nDoe"], InvalidValueError),
])
def test_bad_options_are_refused(option: str, value: object, error: type, tmp_path: Path) -> None:
    with pytest.raises(error):
        create_chart("svc", tmp_path, **{option: value})
    assert tree(tmp_path) == []


def test_cli_bad_port_is_a_usage_error(tmp_path: Path, run_cli) -> None:
    result = run_cli("chart", "create", "svc", "--output-dir", str(tmp_path), "--port", "99999")
    assert result.exit_code == 2
    assert "99999" in result.stderr
    assert tree(tmp_path) == []


def test_json_error_document(tmp_path: Path, run_cli) -> None:
    result = run_cli("--output", "json", "chart", "create", "Bad_Name", "--output-dir", str(tmp_path))
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["error"]["type"] == "InvalidNameError"
    assert "DNS-1123" in doc["error"]["message"]


def test_icon_and_maintainers_go_into_chart_yaml(tmp_path: Path, run_cli) -> None:
    result = run_cli("chart", "create", "svc", "-d", str(tmp_path), "--icon", "https://example.com/svc.png",
                     "--maintainer", "Jane Doe <jane@example.com>", "--maintainer", "Platform team")
    assert result.exit_code == 0, result.stderr
    meta = yaml.safe_load((tmp_path / "svc" / "Chart.yaml").read_text())
    assert meta["icon"] == "https://example.com/svc.png"
    assert meta["maintainers"] == [{"name": "Jane Doe", "email": "jane@example.com"}, {"name": "Platform team"}]
    bad = run_cli("chart", "create", "other", "-d", str(tmp_path), "--maintainer", "Jane <jane@localhost>")
    assert bad.exit_code == 2 and "not an email address" in bad.stderr
    assert not (tmp_path / "other").exists()
