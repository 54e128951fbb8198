"""Batched lint (chartgen.lint_batch): the same findings as one helm call per chart and profile, with
far fewer helm processes; every chart that a subchart render could misrepresent runs on its own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from chartgen import create_chart
from chartgen.helm import Helm
from chartgen.lint import lint
from chartgen.lint_batch import (
    Member,
    batch_blocker,
    coalesce,
    defines,
    embeddable,
    plan,
    same_values,
    split_lint_output,
)
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "lint_corpus"


def write_chart(root: Path, name: str, templates: dict[str, str], values: str = "", **files: str) -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n" + files.pop("chart", ""))
    (chart / "values.yaml").write_text(values)
    for rel, text in templates.items():
        (chart / "templates" / rel).write_text(text)
    for profile, text in files.items():  # values_prod= -> values-prod.yaml
        (chart / f"{profile.replace('_', '-')}.yaml").write_text(text)
    return chart


POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
    - name: app
      image: {{{{ include "common.image" . }}}}
---
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  image: {{{{ include "common.image" . | quote }}}}
  value: {{{{ .Values.value | quote }}}}
"""


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Generated charts (batchable) among charts that must not be batched, or not with each other."""
    root = tmp_path_factory.mktemp("tricky")
    charts = [Path(create_chart(f"gen-{x}", root).path) for x in "abc"]
    # gen-b's prod profile removes defaults with nulls (helm's coalescing must be reproduced exactly).
    prod = charts[1] / "values-prod.yaml"
    prod.write_text("---\n# removes defaults\n" + prod.read_text() + "podAnnotations: null\nimage:\n  tag: null\n")
    for twin, image in (("twin-1", "nginx:1.27"), ("twin-2", "nginx:latest")):
        # Both define common.image: rendered in one umbrella, one would get the other's definition.
        charts.append(write_chart(root, twin, {
            "_helpers.tpl": f'{{{{- define "common.image" -}}}}{image}{{{{- end }}}}\n',
            "cm.yaml": POD.format(name=twin) + CONFIGMAP.format(name=twin)}, "value: x\n", values_prod="value: prod\n"))
    # helm reads a date and 1e3 otherwise than YAML 1.1 does: the pair falls back to its own helm calls.
    charts.append(write_chart(root, "dated", {"_h.tpl": '{{- define "dated.image" -}}x{{- end }}',
                                              "cm.yaml": CONFIGMAP.format(name="dated").replace("common", "dated")},
                              "value: 1\n", values_prod="value: 2024-01-01\nratio: 1e3\n"))
    # Reads .Values.global without defining it: fails on its own, would render as a subchart.
    charts.append(write_chart(root, "globals", {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                                "  name: g\ndata:\n  r: {{ .Values.global.registry | quote }}\n"}))
    # Fails to render in one profile only: its umbrella is bisected.
    charts.append(write_chart(root, "broken", {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"
                                               "data:\n  r: {{ required \"value is required\" .Values.value }}\n"},
                              "value: x\n", values_prod="value: null\n", values_staging="---\na: 1\n---\nb: 2\n"))
    charts.append(write_chart(root, "rooted", {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: r\n"
                                               "data:\n  root: {{ .Chart.IsRoot | quote }}\n"}))
    # A directory not named like its chart (the umbrella and the lint copies use the chart's name).
    charts.append(Path(create_chart("gen-d", root).path).rename(root / "gen-d-dir"))
    return charts


def spy_helm(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], Any]]:
    """From now on, every helm call recorded: (argv, the umbrella's member charts or None)."""
    calls: list[tuple[list[str], Any]] = []
    real = Helm.run

    def spy(self: Helm, args: list[str], **kw: Any) -> Any:
        members = None
        if args[0] == "template" and Path(args[2], "charts").is_dir():
            members = sorted(os.listdir(Path(args[2], "charts")))
        calls.append((list(args), members))
        return real(self, args, **kw)

    monkeypatch.setattr(Helm, "run", spy)
    return calls


def run_spied(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> tuple[dict[str, Any], list[tuple[list[str], Any]]]:
    """lint(**kwargs) with every helm call recorded."""
    calls = spy_helm(monkeypatch)
    return lint(**kwargs).to_dict(), calls


@pytest.mark.helm
def test_batched_findings_equal_one_call_per_pair(helm: str, tricky: list[Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("value: from-extra\nreplicaCount: 2\n")
    dirs = [*tricky, *sorted(p for p in CORPUS.iterdir() if p.is_dir())]
    for strict, values in ((True, []), (False, [extra])):
        one_by_one = lint(dirs, helm=helm, strict=strict, values=values, batch=False).to_dict()
        batched, calls = run_spied(monkeypatch, chart_dirs=dirs, helm=helm, strict=strict, values=values)
        monkeypatch.undo()
        assert batched == one_by_one
        umbrellas = [members for _argv, members in calls if members]
        assert umbrellas, "nothing was batched"
        assert not any({"twin-1", "twin-2"} <= set(m) for m in umbrellas)
        assert not any(m in ("globals", "rooted") for members in umbrellas for m in members)
        alone = [argv[1:4] for argv, _m in calls if argv[0] == "lint" and "-f" in argv]
        # helm read dated's prod profile otherwise than chartgen: that pair ran on its own
        assert [str(tricky[5]), "-f", str(tricky[5] / "values-prod.yaml")] in alone
    by_chart = {c["chart"]: c for c in batched["charts"]}
    # twin-2's 'latest' did not leak into twin-1
    assert [m["rule"] for m in by_chart[str(tricky[4])]["messages"]].count("image-tag") == 1
    assert "image-tag" not in [m["rule"] for m in by_chart[str(tricky[3])]["messages"]]
    assert any(m["rule"] == "template-render" and "nil pointer" in m["message"]
               for m in by_chart[str(tricky[6])]["messages"])
    assert any(m["rule"] == "template-render" and m["profile"] == "prod" and "value is required" in m["message"]
               for m in by_chart[str(tricky[7])]["messages"])


@pytest.mark.helm
def test_generated_charts_need_two_helm_calls_per_profile_group(helm4: str, tricky: list[Path],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    generated = tricky[:3]  # 3 charts x 4 profiles: 24 helm calls one by one
    result, calls = run_spied(monkeypatch, chart_dirs=generated, helm=helm4, strict=True, jobs=2)
    assert result["summary"]["errors"] == result["summary"]["warnings"] == 0
    assert sorted(argv[0] for argv, _m in calls) == ["lint"] * 4 + ["template"] * 4
    assert all(len(members) == 3 for _argv, members in calls if members)


@pytest.mark.helm
def test_cli_no_batch_gives_the_same_document(helm4: str, tricky: list[Path], run_cli,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["-o", "json", "lint", "--strict", "--helm", helm4, *map(str, tricky[:2])]
    batched = run_cli(*args)
    calls = spy_helm(monkeypatch)
    unbatched = run_cli(*args, "--no-batch")
    assert (batched.exit_code, batched.stdout) == (unbatched.exit_code, unbatched.stdout)
    assert sorted(argv[0] for argv, _m in calls) == ["lint"] * 8 + ["template"] * 8  # 2 charts x 4 profiles


# --- the pure parts ------------------------------------------------------------------------

def test_coalesce_follows_helm() -> None:
    defaults = {"a": 1, "b": {"c": 1, "d": {"e": 1}}, "f": {"g": 1}, "h": None, "t": {"x": 1}}
    user = {"a": None, "b": {"c": 2, "d": {"e": None}}, "f": "flat", "n": None, "t": {"y": None}}
    assert coalesce(user, defaults) == {"b": {"c": 2, "d": {}}, "f": "flat", "h": None, "n": None,
                                        "t": {"x": 1, "y": None}}
    assert user == {"a": None, "b": {"c": 2, "d": {"e": None}}, "f": "flat", "n": None, "t": {"y": None}}


@pytest.mark.parametrize(("go", "ours", "same"), [
    (8080, 8080, True), (8080.0, 8080, True), (1, True, False), (True, True, True), ("1", 1, False),
    ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}, True), ({"a": 1}, {"a": 1, "b": 2}, False),
    ("2024-01-01T00:00:00Z", __import__("datetime").date(2024, 1, 1), False), ([1], [1, 2], False)])
def test_same_values(go: Any, ours: Any, same: bool) -> None:
    assert same_values(go, ours) is same


@pytest.mark.parametrize(("text", "expected"), [
    ("a: 1\n", "a: 1"), ("\ufeff# c\n---\na: 1\n", "# c\na: 1"), ("--- # top\nb: |\n  x\n", "b: |\n  x"),
    ("a: 1\n---\nb: 2\n", None), ("a: 1\n...\n", None), ("%YAML 1.1\n---\na: 1\n", None), ("--- {a: 1}\n", None)])
def test_embeddable(text: str, expected: str | None) -> None:
    assert embeddable(text) == expected


@pytest.mark.parametrize(("template", "blocked"), [
    ('{{ include "x.labels" . }} {{ include (print $.Template.BasePath "/cm.yaml") . | sha256sum }}', False),
    ("{{ .Template.BasePath }}", True), ("{{ .Template.Name }}", True), ("{{ .Chart.IsRoot }}", True),
    ("{{ include $name . }}", True), ("{{ $x := include \"a\" . }}{{ template \"b\" . }}", False),
    ("{{ .Values.global.registry }}", True), ("{{ toYaml .Values }}", True), ("{{ .Values.a.b }}", False),
    ("# the pod template is included below", False)])
def test_batch_blocker_templates(template: str, blocked: bool) -> None:
    reason = batch_blocker({"name": "app"}, {"templates/t.yaml": template}, {})
    assert (reason is not None) is blocked, reason


def test_batch_blocker_charts() -> None:
    assert batch_blocker({"name": "app"}, {"t": "{{ .Values.global.x }}"}, {"global": {}}) is None
    for meta in ({"name": "app", "type": "library"}, {"name": "app", "dependencies": [{"name": "x"}]},
                 {"name": "../up"}, {"name": "global"}, {"name": "chartgen-lint-batch"}, {}):
        assert batch_blocker(meta, {}, {}) is not None, meta


def test_defines() -> None:
    text = '{{- define "a.name" -}}x{{ end }}{{ define `b` }}{{ end }}{{ block "c" . }}{{ end }}{{ include "d" . }}'
    assert defines({"t": text}) == {"a.name", "b", "c"}


def test_plan_separates_names_and_shared_template_names() -> None:
    def m(key: int, name: str, *names: str) -> Member:
        return Member(key, name, Path("."), frozenset(names), None)

    members = [m(0, "a", "common"), m(1, "a"), m(2, "b", "common"), m(3, "c"), m(4, "d")]
    groups = plan(members, slots=2)
    assert sorted(x.key for g in groups for x in g) == [0, 1, 2, 3, 4]
    for group in groups:
        assert len({x.name for x in group}) == len(group)
        assert sum("common" in x.defines for x in group) <= 1
    assert len(groups) >= 2
    assert len(plan([m(i, f"c{i}") for i in range(200)], slots=1)) == 5  # at most MAX_GROUP (48) per umbrella


def test_split_lint_output() -> None:
    out = "==> Linting a\n[INFO] Chart.yaml: x\n\n==> Linting /t/b\n[ERROR] templates/: y\n\n2 chart(s) linted\n"
    assert split_lint_output(out) == {"a": ["[INFO] Chart.yaml: x", ""],
                                      "/t/b": ["[ERROR] templates/: y", "", "2 chart(s) linted"]}
