"""charts/ holds charts generated from checked-in answers; regenerating them changes nothing."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml

from chartgen import create_chart
from chartgen.render import iter_templates, output_name
from tests.conftest import ROOT, tree

ANSWERS = sorted((ROOT / "tests" / "golden").glob("*.answers.yaml"))


@pytest.mark.parametrize("answers_file", ANSWERS, ids=[p.name.split(".")[0] for p in ANSWERS])
def test_checked_in_chart_matches_generator(answers_file: Path, tmp_path: Path) -> None:
    answers = yaml.safe_load(answers_file.read_text())
    fresh = Path(create_chart(output_dir=tmp_path, **answers).path)
    golden = ROOT / "charts" / answers["name"]
    assert tree(golden) == tree(fresh), "files differ: run `make charts` and review the diff"
    for rel in tree(fresh):
        if (fresh / rel).is_file():
            new, old = (fresh / rel).read_text(), (golden / rel).read_text()
            if new != old:
                diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"charts/{rel}",
                                                    "generated"))
                pytest.fail(f"charts/{answers['name']}/{rel} is stale: run `make charts`\n{diff[:3000]}")


def test_there_is_a_golden_chart() -> None:
    assert ANSWERS, "tests/golden/*.answers.yaml is missing"


def test_helm_braces_reach_the_chart_untouched(hello_chart: Path) -> None:
    rendered = {output_name(t) for t in iter_templates()}
    assert "templates/deployment.yaml" in rendered and ".helmignore" in rendered
    for rel in tree(hello_chart):
        path = hello_chart / rel
        if path.is_file():
            text = path.read_text()
            assert "[[" not in text and "[%" not in text, f"{rel}: unrendered Jinja"
    deployment = (hello_chart / "templates" / "deployment.yaml").read_text()
    assert '{{ include "hello-go.fullname" . }}' in deployment
    assert "{{- if not .Values.autoscaling.enabled }}" in deployment
    notes = (hello_chart / "templates" / "NOTES.txt").read_text()
    assert '{{"{{ range (index .status.loadBalancer.ingress 0) }}{{.}}{{ end }}"}}' in notes
