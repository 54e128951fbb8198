"""`chartgen lint` on a corpus of broken charts, with helm 3 and helm 4, and on generated charts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from chartgen.k8s_schema import validate
from chartgen.lint import RULES, lint
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "lint_corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expect.yaml").is_file())
OUTPUT_SCHEMA = json.loads((ROOT / "docs" / "lint-output.schema.json").read_text())

pytestmark = pytest.mark.helm


def expectation(case: str) -> dict:
    return yaml.safe_load((CORPUS / case / "expect.yaml").read_text())


@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case: str, helm: str, run_cli) -> None:
    expect = expectation(case)
    args = ["-o", "json", "lint", str(CORPUS / case), "--helm", helm] + (["--strict"] if expect.get("strict") else [])
    result = run_cli(*args)
    assert result.exit_code == expect["exit"], result.stdout + result.stderr
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, OUTPUT_SCHEMA)
    messages = doc["charts"][0]["messages"]
    if expect["rule"] is None:
        assert [m for m in messages if m["severity"] != "INFO"] == []
        return
    hits = [m for m in messages if m["rule"] == expect["rule"] and m["severity"] == expect["severity"]
            and expect["message"] in m["message"]]
    assert hits, f"expected {expect} in {json.dumps(messages, indent=1)}"
    if "profile" in expect:
        assert all(h["profile"] == expect["profile"] for h in hits)


def test_same_findings_on_helm3_and_helm4(helm3: str, helm4: str) -> None:
    dirs = [CORPUS / c for c in CASES]

    def findings(helm: str) -> dict[str, set[tuple[str, str, str]]]:
        result = lint(dirs, helm=helm)
        # chartgen's own rules must agree exactly. helm lint's wording differs between versions, and
        # helm 4 adds warnings of its own (a 'v'-prefixed version), so for it only errors must agree.
        return {c.chart: {(m.rule, m.severity, "" if m.rule == "helm-lint" else m.path) for m in c.messages
                          if m.rule != "helm-lint" or m.severity == "ERROR"} for c in result.charts}

    assert findings(helm3) == findings(helm4)


def test_every_rule_is_in_the_corpus_or_tested_here() -> None:
    covered = {expectation(c)["rule"] for c in CASES} | {"helm-missing", "version-increment"}
    assert set(RULES) <= covered


def test_generated_chart_has_no_error_or_warning(helm: str, hello_chart: Path, run_cli) -> None:
    result = run_cli("-o", "json", "lint", str(hello_chart), "--strict", "--helm", helm)
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["summary"]["errors"] == doc["summary"]["warnings"] == 0
    assert {m["rule"] for m in doc["charts"][0]["messages"]} <= {"chart-icon", "chart-maintainers"}


def test_every_profile_of_the_generated_chart_is_linted(helm4: str, hello_chart: Path, tmp_path: Path) -> None:
    chart = tmp_path / "hello-go"
    shutil.copytree(hello_chart, chart)
    (chart / "values-prod.yaml").write_text((chart / "values-prod.yaml").read_text() + "image:\n  tag: latest\n")
    [found] = lint([chart], helm=helm4, strict=True).charts
    [hit] = [m for m in found.messages if m.rule == "image-tag"]
    assert hit.profile == "prod"


def test_all_errors_of_a_resource_are_reported() -> None:
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
           "spec": {"selector": {"matchLabels": {"a": "b"}}, "replicas": "two",
                    "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [
                        {"name": "c", "image": "i:1", "ports": [{"containerPort": "80"}], "imagePullPolicyy": "x"}]}}}}
    problems = validate(doc, "1.34")
    assert problems is not None and len(problems) == 3
    assert {p.path for p in problems} == {"spec.replicas", "spec.template.spec.containers.0",
                                          "spec.template.spec.containers.0.ports.0.containerPort"}


def test_validation_results_are_reused_only_for_the_same_document() -> None:
    def config_map(data: dict) -> dict:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": data}

    first = validate(config_map({"a": 1}), "1.34")
    assert first and first[0].path == "data.a"
    first.clear()  # the caller's list, not the cached result
    assert validate(config_map({"a": 1}), "1.34") == validate(config_map({"a": 1}), "1.34") != []
    assert validate(config_map({"a": "1"}), "1.34") == []  # JSON would not tell 1 from "1"; the cache does
    assert validate(config_map({"a": 1.5}), "1.34") != []


def test_without_helm_the_other_checks_still_run(run_cli) -> None:
    result = run_cli("-o", "json", "lint", str(CORPUS / "values-plaintext-secret"), "--helm", "/nonexistent/helm")
    assert result.exit_code == 1
    rules = {m["rule"] for m in json.loads(result.stdout)["charts"][0]["messages"]}
    assert {"helm-missing", "values-plaintext-secret"} <= rules
    text = run_cli("lint", str(CORPUS / "clean"), "--helm", "/nonexistent/helm")
    assert "helm-missing" in text.stdout and "make tools" in text.stdout and text.exit_code == 1


def test_skip_rule_and_unknown_rule(helm4: str, run_cli) -> None:
    chart = str(CORPUS / "image-tag")
    assert run_cli("lint", chart, "--strict", "--helm", helm4).exit_code == 1
    assert run_cli("lint", chart, "--strict", "--helm", helm4, "--skip-rule", "image-tag").exit_code == 0
    bad = run_cli("lint", chart, "--skip-rule", "no-such-rule")
    assert bad.exit_code == 2 and "unknown rule" in bad.stderr


def test_parallel_equals_sequential(helm4: str) -> None:
    dirs = [CORPUS / c for c in CASES[:8]]
    one = lint(dirs, helm=helm4, jobs=1).to_dict()
    many = lint(dirs, helm=helm4, jobs=4).to_dict()
    assert one == many


def test_bad_usage(run_cli) -> None:
    assert run_cli("lint").exit_code == 2
    assert run_cli("lint", str(CORPUS / "clean"), "--kube-version", "1.10").exit_code == 2
    assert run_cli("lint", str(CORPUS / "clean"), "--values", "/no/such/file.yaml").exit_code == 2


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "HOME": str(repo.parent)}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def test_version_increment_with_since(helm4: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli) -> None:
    repo = tmp_path / "mono"
    for name in ("one", "two"):
        shutil.copytree(CORPUS / "clean", repo / "charts" / name)
        chart_yaml = repo / "charts" / name / "Chart.yaml"
        chart_yaml.write_text(chart_yaml.read_text().replace("name: clean", f"name: {name}"))
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    monkeypatch.chdir(repo)
    values = repo / "charts" / "one" / "values.yaml"
    values.write_text(values.read_text() + "x: 1\n")
    result = run_cli("-o", "json", "lint", "--since", "HEAD", "--helm", helm4)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [c["chart"] for c in doc["charts"]] == ["charts/one"]
    [problem] = [m for m in doc["charts"][0]["messages"] if m["rule"] == "version-increment"]
    assert re.search(r"not greater than 0\.1\.0", problem["message"])
    assert run_cli("bump", "charts/one", "patch").exit_code == 0
    assert run_cli("lint", "--since", "HEAD", "--helm", helm4).exit_code == 0
    assert "No chart changed" in run_cli("lint", "--since", "HEAD", "--charts-dir", "nothing-here").stdout


def test_readme_documents_every_rule() -> None:
    readme = (ROOT / "README.md").read_text()
    for rule in RULES:
        assert f"| `{rule}` |" in readme, f"rule {rule} is missing from the README's table"
