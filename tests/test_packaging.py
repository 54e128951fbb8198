"""The wheel ships the chart templates, and an installed chartgen renders from them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_contains_chart_templates(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    [wheel] = tmp_path.glob("chartgen-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "chart_templates").rglob("*.j2")}
    assert templates
    for template in templates:
        assert f"chartgen/{template}" in names, f"{template} missing from the wheel"
    service_root = ROOT / "cookiecutter-go-service"
    service_files = {p.relative_to(service_root).as_posix() for p in service_root.rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts}
    assert ".github/workflows/ci.yml" in {f.split("/", 1)[-1] for f in service_files}
    for rel in service_files:
        assert f"chartgen/cookiecutter_go_service/{rel}" in names, f"{rel} missing from the wheel"
    assert "chartgen/repos/oci.py" in names
    # Installed from the wheel (no checkout beside it), chartgen finds its templates.
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from chartgen import create_chart; "
            "from chartgen.scaffold import create_service; import chartgen.publish; "
            "assert chartgen.__file__.startswith(sys.argv[1]), chartgen.__file__; "
            "r = create_chart('svc', sys.argv[2]); create_service('app', sys.argv[2]); print(r.path)")
    proc = subprocess.run([sys.executable, "-c", code, str(target), str(tmp_path / "out")],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "svc" / "templates" / "deployment.yaml").is_file()
    assert (tmp_path / "out" / "svc" / ".helmignore").is_file()
    assert (tmp_path / "out" / "app" / ".github" / "workflows" / "ci.yml").is_file()
    assert (tmp_path / "out" / "app" / "charts" / "app" / "values.yaml").is_file()
