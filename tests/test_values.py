"""values.yaml, values.schema.json and the README table come from one spec and agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from chartgen.values import Answers, defaults, iter_leaves, values_spec
from tests.helmutil import ALL_ON

ANSWERS = Answers(name="hello-go", image_repository="registry.example.com/acme/hello-go")


def test_values_yaml_equals_spec_defaults(hello_chart: Path) -> None:
    values = yaml.safe_load((hello_chart / "values.yaml").read_text())
    expected = defaults(values_spec(Answers(name="hello-go", image_repository="registry.example.com/acme/hello-go",
                                            app_version="1.0.0")))
    assert values == expected


def test_every_leaf_is_commented_in_place() -> None:
    from chartgen.values import render_values_yaml

    text = render_values_yaml(ANSWERS)
    for key, value in iter_leaves(values_spec(ANSWERS)):
        leaf = key.rsplit(".", 1)[-1]
        indent = "  " * key.count(".")
        assert re.search(rf"\n{indent}#    .*\n{indent}{leaf}:|\n{indent}# -- [^\n]*\n{indent}{leaf}:", text), key
        assert value.doc


def test_schema_accepts_defaults_and_profiles(hello_chart: Path) -> None:
    schema = json.loads((hello_chart / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    validator = jsonschema.Draft7Validator(schema)
    base = yaml.safe_load((hello_chart / "values.yaml").read_text())
    validator.validate(base)
    for profile in ("dev", "staging", "prod"):
        overlay = yaml.safe_load((hello_chart / f"values-{profile}.yaml").read_text())
        validator.validate(_merge(base, overlay))
    validator.validate(_merge(base, ALL_ON))


@pytest.mark.parametrize(("patch", "where"), [
    ({"replicaCount": -1}, "replicaCount"),
    ({"service": {"port": 99999}}, "port"),
    ({"image": {"pullPolicy": "Sometimes"}}, "pullPolicy"),
    ({"containerPort": "8080"}, "containerPort"),
    ({"unknownKey": 1}, "unknownKey"),
    ({"config": {"BAD KEY": "x"}}, "config"),
    ({"secret": {"data": {"TOKEN": 5}}}, "TOKEN"),
    ({"ingress": {"hosts": [{"host": "x", "paths": [{"path": "no-slash"}]}]}}, "path"),
    ({"podDisruptionBudget": {"maxUnavailable": "half"}}, "maxUnavailable"),
    ({"serviceMonitor": {"interval": "often"}}, "interval"),
])
def test_schema_rejects(hello_chart: Path, patch: dict, where: str) -> None:
    schema = json.loads((hello_chart / "values.schema.json").read_text())
    values = _merge(yaml.safe_load((hello_chart / "values.yaml").read_text()), patch)
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(values))
    assert errors
    assert any(where in (".".join(map(str, e.absolute_path)) + " " + e.message) for e in errors)


def test_readme_table_lists_every_leaf(hello_chart: Path) -> None:
    readme = (hello_chart / "README.md").read_text()
    rows = re.findall(r"^\| `([^`]+)` \|", readme, flags=re.M)
    leaves = [key for key, _ in iter_leaves(values_spec(ANSWERS))]
    # The README also has the env-variable table with backticked names; the values table is the tail.
    assert rows[-len(leaves):] == leaves
    base = yaml.safe_load((hello_chart / "values.yaml").read_text())
    for key in leaves:
        node = base
        for part in key.split("."):
            node = node[part]
        assert f"| `{key}` |" in readme
        assert f"`{json.dumps(node, separators=(',', ':'))}`" in readme


def test_subchart_values_are_allowed_but_scalar_typos_are_not(hello_chart: Path) -> None:
    schema = json.loads((hello_chart / "values.schema.json").read_text())
    values = yaml.safe_load((hello_chart / "values.yaml").read_text())
    jsonschema.Draft7Validator(schema).validate({**values, "redis": {"enabled": True}})
    assert list(jsonschema.Draft7Validator(schema).iter_errors({**values, "replicaCont": 3}))


def test_schema_covers_exactly_the_values(hello_chart: Path) -> None:
    schema = json.loads((hello_chart / "values.schema.json").read_text())
    base = yaml.safe_load((hello_chart / "values.yaml").read_text())
    assert set(schema["properties"]) == set(base) | {"global"}
    for key, value in iter_leaves(values_spec(ANSWERS)):
        node = schema
        for part in key.split("."):
            node = node["properties"][part]
        assert node["description"] == value.doc


def _merge(base: dict, overlay: dict) -> dict:
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
