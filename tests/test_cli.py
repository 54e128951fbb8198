"""The CLI contract: help, JSON output, exit codes, completion, python -m."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_help_lists_commands(run_cli) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "chart" in result.stdout and "Exit codes" in result.stdout
    create = run_cli("chart", "create", "--help")
    assert create.exit_code == 0
    for option in ("--output-dir", "--image-repository", "--port", "--app-version", "--force"):
        assert option in create.stdout


def test_json_output_is_one_document(tmp_path: Path, run_cli) -> None:
    result = run_cli("--output", "json", "chart", "create", "svc", "--output-dir", str(tmp_path))
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["name"] == "svc"
    assert doc["path"] == str(tmp_path / "svc")
    assert "Chart.yaml" in doc["files"] and "values.schema.json" in doc["files"]
    assert doc["replaced"] is False and doc["warnings"] == []


def test_quiet_prints_nothing(tmp_path: Path, run_cli) -> None:
    result = run_cli("-q", "chart", "create", "svc", "--output-dir", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""
    assert (tmp_path / "svc" / "Chart.yaml").is_file()


def test_unknown_command_and_option_exit_2(run_cli) -> None:
    assert run_cli("no-such-command").exit_code == 2
    result = run_cli("chart", "create", "svc", "--no-such-option")
    assert result.exit_code == 2
    assert "No such option" in result.stderr


def test_python_dash_m_and_console_script(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "chartgen", "chart", "create", "svc", "-d", str(tmp_path)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "Created chart svc" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "chartgen", "chart", "create", "svc", "-d", str(tmp_path)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error:") and "Traceback" not in proc.stderr
    script = Path(sys.executable).parent / "chartgen"
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "chartgen" in proc.stdout


def test_shell_completion_uses_click(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "chartgen"
    env = {**os.environ, "_CHARTGEN_COMPLETE": "bash_source"}
    proc = subprocess.run([str(script)], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0
    assert "_chartgen_completion" in proc.stdout and "complete " in proc.stdout
    env = {**os.environ, "_CHARTGEN_COMPLETE": "bash_complete", "COMP_WORDS": "chartgen chart cr", "COMP_CWORD": "2"}
    proc = subprocess.run([str(script)], capture_output=True, text=True, env=env, check=False)
    assert "create" in proc.stdout
