"""Repository indexes: defensive loading, merging that keeps `created`, splicing, helm compatibility."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from chartgen.archive import package_chart
from chartgen.index import ChartVersion, IndexFile, IndexFileError, _scalar, emit_yaml
from chartgen.repo_index import index
from tests.helmutil import helm_run
from tests.httpserver import serve_directory

BACKENDS = ["yaml-rs", "pyyaml"]
ENTRY = "    - name: a\n      version: 1.0.0\n      urls: [a-1.0.0.tgz]\n"

BAD_INDEXES = {
    "empty": ("", "empty index"),
    "whitespace": ("  \n\n", "empty index"),
    "no apiVersion": ("entries: {}\n", "no apiVersion"),
    "no entries": ("apiVersion: v1\n", "no 'entries'"),
    "entries null": ("apiVersion: v1\nentries: null\n", "'entries' is null"),
    "entries list": ("apiVersion: v1\nentries: [a, b]\n", "must be a mapping"),
    "chart null": ("apiVersion: v1\nentries:\n  a:\n", "entries.a must be a list"),
    "null entry": ("apiVersion: v1\nentries:\n  a:\n  - null\n", r"entries.a\[0\] is null"),
    "empty entry": ("apiVersion: v1\nentries:\n  a:\n  -\n", r"entries.a\[0\] is null"),
    "entry not mapping": ("apiVersion: v1\nentries:\n  a:\n  - just-text\n", "must be a mapping"),
    "float version": ("apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0\n", "no version string"),
    "wrong name": ("apiVersion: v1\nentries:\n  a:\n  - name: b\n    version: 1.0.0\n", "is named 'b'"),
    "duplicate chart": ("apiVersion: v1\nentries:\n  a: []\n  a: []\n", "duplicate"),
    "duplicate field": ("apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    version: 2.0.0\n",
                        "duplicate"),
    "not a mapping": ("- apiVersion: v1\n", "not a mapping"),
    "scalar": ("hello\n", "not a mapping"),
    "two documents": ("apiVersion: v1\nentries: {}\n---\napiVersion: v1\nentries: {}\n", "several YAML documents"),
    "syntax error": ("apiVersion: v1\nentries: {a: [\n", "not valid YAML"),
    "alias bomb": ("apiVersion: v1\nentries: {}\n"
                   "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                   "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                   "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                   "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n", "alias"),
    "json duplicate": ('{"apiVersion": "v1", "entries": {"a": [], "a": []}}', "duplicate key"),
    "json syntax": ('{"apiVersion": "v1", "entries": {', "not valid JSON or YAML"),
    "json entries null": ('{"apiVersion": "v1", "entries": null}', "'entries' is null"),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", BAD_INDEXES, ids=list(BAD_INDEXES))
def test_bad_indexes_give_clear_errors(case: str, backend: str) -> None:
    text, message = BAD_INDEXES[case]
    with pytest.raises(IndexFileError, match=message):
        IndexFile.loads(text, "index.yaml", yaml_backend=backend)


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "index.yaml").write_bytes(b"apiVersion: v1\nentries: {}\ndescription: \xff\xfe\n")
    with pytest.raises(IndexFileError, match="not UTF-8"):
        IndexFile.load(tmp_path / "index.yaml")


@pytest.fixture
def repo(tmp_path: Path, hello_chart: Path) -> Path:
    """A directory with archives of two charts (three versions) and one in a subdirectory."""
    root = tmp_path / "repo"
    root.mkdir()
    for name, version, sub in [("alpha", "1.0.0", ""), ("alpha", "1.10.0", ""), ("alpha", "1.9.0-rc.1", ""),
                               ("beta", "0.1.0", "nested")]:
        chart = tmp_path / "src" / name
        shutil.copytree(hello_chart, chart, dirs_exist_ok=True)
        text = (chart / "Chart.yaml").read_text()
        text = text.replace("name: hello-go", f"name: {name}").replace("version: 0.1.0", f"version: {version}")
        (chart / "Chart.yaml").write_text(text + "someUnknownField: helm would choke on this in an index\n")
        package_chart(chart, root / sub if sub else root)
    return root


def test_index_sorted_and_complete(repo: Path) -> None:
    result = index(repo, url="https://charts.example.com/stable")
    assert sorted(result.added) == ["alpha-1.0.0", "alpha-1.10.0", "alpha-1.9.0-rc.1", "beta-0.1.0"]
    loaded = IndexFile.load(repo / "index.yaml")
    assert [e.version for e in loaded.entries["alpha"]] == ["1.10.0", "1.9.0-rc.1", "1.0.0"]
    beta = loaded.entries["beta"][0]
    assert beta.urls == ["https://charts.example.com/stable/nested/beta-0.1.0.tgz"]
    assert len(beta.digest) == 64
    assert "someUnknownField" not in beta.data
    assert list(yaml.safe_load((repo / "index.yaml").read_text())) == ["apiVersion", "entries", "generated"]


def test_merge_keeps_created_and_bytes(repo: Path, tmp_path: Path, hello_chart: Path) -> None:
    index(repo)
    first = (repo / "index.yaml").read_text()
    created = {e.version: e.created for e in IndexFile.load(repo / "index.yaml").entries["alpha"]}
    # A new version of beta arrives; alpha's block must not change by a single byte.
    chart = tmp_path / "src" / "beta"
    (chart / "Chart.yaml").write_text((chart / "Chart.yaml").read_text().replace("version: 0.1.0",
                                                                                 "version: 0.2.0"))
    package_chart(chart, repo)
    result = index(repo)
    assert result.added == ["beta-0.2.0"] and result.kept == 4
    second = (repo / "index.yaml").read_text()
    alpha_block = first[first.index("  alpha:"):first.index("  beta:")]
    assert alpha_block in second
    after = IndexFile.load(repo / "index.yaml")
    assert {e.version: e.created for e in after.entries["alpha"]} == created
    assert [e.version for e in after.entries["beta"]] == ["0.2.0", "0.1.0"]


def test_without_merge_the_index_follows_the_directory(repo: Path) -> None:
    index(repo)
    (repo / "alpha-1.0.0.tgz").unlink()
    result = index(repo)
    assert result.removed == ["alpha-1.0.0"]
    assert [e.version for e in IndexFile.load(repo / "index.yaml").entries["alpha"]] == ["1.10.0", "1.9.0-rc.1"]


def test_merge_file_keeps_foreign_entries(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-index.yaml"
    other.write_text("apiVersion: v1\nentries:\n  zeta:\n  - name: zeta\n    version: 9.9.9\n"
                     "    created: '2020-01-01T00:00:00Z'\n    digest: abc\n    urls:\n"
                     "    - https://elsewhere/zeta-9.9.9.tgz\ngenerated: '2020-01-01T00:00:00Z'\n")
    result = index(repo, merge=other)
    loaded = IndexFile.load(repo / "index.yaml")
    assert loaded.entries["zeta"][0].created == "2020-01-01T00:00:00Z"
    assert set(loaded.entries) == {"alpha", "beta", "zeta"}
    assert result.versions == 5
    assert other.read_text().count("zeta") == 3  # the merge source itself is not touched


def test_changed_digest_replaces_entry_with_warning(repo: Path, tmp_path: Path, hello_chart: Path) -> None:
    index(repo)
    chart = tmp_path / "src" / "beta"
    (chart / "values.yaml").write_text((chart / "values.yaml").read_text() + "# changed\n")
    package_chart(chart, repo / "nested")
    result = index(repo)
    assert result.updated == ["beta-0.1.0"]
    assert "digest differs" in result.warnings[0]


def test_failed_load_is_never_overwritten(repo: Path, run_cli) -> None:
    bad = "apiVersion: v1\nentries:\n  a: []\n  a: []\n"
    (repo / "index.yaml").write_text(bad)
    result = run_cli("index", str(repo))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "duplicate" in result.stderr
    assert (repo / "index.yaml").read_text() == bad
    (repo / "index.yaml").unlink()
    merge = repo.parent / "merge.yaml"
    merge.write_text("entries: {}\n")
    result = run_cli("index", str(repo), "--merge", str(merge))
    assert result.exit_code == 1 and "apiVersion" in result.stderr
    assert not (repo / "index.yaml").exists()


def test_broken_archive_aborts_index(repo: Path, run_cli) -> None:
    (repo / "broken-1.0.0.tgz").write_bytes(b"not gzip")
    result = run_cli("index", str(repo))
    assert result.exit_code == 1 and "not a gzip file" in result.stderr
    assert not (repo / "index.yaml").exists()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("style", ["comments", "flow", "indented-sequences", "quoted-names"])
def test_other_layouts_fall_back_to_a_full_write(style: str, backend: str, tmp_path: Path) -> None:
    texts = {
        "comments": "# my index\napiVersion: v1\nentries:\n  # first chart\n  a:\n" + ENTRY.replace("    ", "  ")
                    + "generated: '2020-01-01T00:00:00Z'\n",
        "flow": '{apiVersion: v1, entries: {a: [{name: a, version: 1.0.0, urls: [a-1.0.0.tgz]}]}, '
                'generated: "2020-01-01T00:00:00Z"}\n',
        "indented-sequences": "apiVersion: v1\nentries:\n  a:\n" + ENTRY + "generated: '2020-01-01T00:00:00Z'\n",
        "quoted-names": "apiVersion: v1\nentries:\n  'a':\n" + ENTRY + "generated: '2020-01-01T00:00:00Z'\n",
    }
    loaded = IndexFile.loads(texts[style], yaml_backend=backend)
    loaded.put(ChartVersion({"name": "b", "version": "2.0.0", "urls": ["b-2.0.0.tgz"], "digest": "d" * 64}))
    out = loaded.dumps()
    again = IndexFile.loads(out, yaml_backend=backend)
    assert [e.version for e in again.entries["a"]] == ["1.0.0"]
    assert again.entries["b"][0].digest == "d" * 64
    assert yaml.safe_load(out)["entries"]["a"][0]["urls"] == ["a-1.0.0.tgz"]


def test_json_index_stays_json(repo: Path) -> None:
    result = index(repo, fmt="json")
    assert result.format == "json"
    text = (repo / "index.yaml").read_text()
    assert json.loads(text)["apiVersion"] == "v1"
    (repo / "alpha-1.0.0.tgz").unlink()
    index(repo)
    assert json.loads((repo / "index.yaml").read_text())["entries"]["alpha"][0]["version"] == "1.10.0"


@given(st.text(max_size=40))
@settings(max_examples=500, deadline=None)
def test_scalars_read_back_identically(value: str) -> None:
    """Whatever a chart puts in a string field reads back as the same string (YAML 1.1 and 1.2 readers)."""
    doc = {"apiVersion": "v1", "entries": {"a": [{"name": "a", "version": "1.0.0", "description": value,
                                                  "keywords": [value], "annotations": {"k": value}}]},
           "generated": "2020-01-01T00:00:00Z"}
    text = emit_yaml(doc)
    for backend in BACKENDS:
        entry = IndexFile.loads(text, yaml_backend=backend).entries["a"][0].data
        assert entry["description"] == value and entry["keywords"] == [value] and entry["annotations"]["k"] == value


@pytest.mark.parametrize("value", [
    "yes", "no", "on", "off", "true", "null", "~", "1.0", "0x1F", "010", "1e3", "2020-01-01", "12:30:00", "0E0",
    "0o17", ".inf", "-.5", "+12", "NULL", "-", "_0", "1_000", "- x", "a: b", "# c", "*alias", "&anchor", "!tag",
    "", " lead",
    "trail ", "multi\nline", "emoji 🎉", "quote\"s", "'single'", "del\x7f", "nel\x85", "ls\u2028"])
def test_ambiguous_scalars_are_quoted(value: str) -> None:
    assert yaml.safe_load(f"k: {_scalar(value)}")["k"] == value


@pytest.mark.helm
def test_same_entries_as_helm_repo_index(helm4: str, repo: Path, tmp_path: Path) -> None:
    ours = IndexFile.load(Path(index(repo, url="https://c.example.com").path))
    shutil.copytree(repo, tmp_path / "helmrepo", ignore=shutil.ignore_patterns("index.yaml"))
    helm_run(helm4, "repo", "index", str(tmp_path / "helmrepo"), "--url", "https://c.example.com")
    theirs = yaml.safe_load((tmp_path / "helmrepo" / "index.yaml").read_text())["entries"]
    for name, versions in theirs.items():
        assert [v["version"] for v in versions] == [e.version for e in ours.entries[name]]
        for helm_entry, our in zip(versions, ours.entries[name], strict=True):
            for key in ("digest", "urls", "name", "version", "appVersion", "apiVersion", "description"):
                assert helm_entry.get(key) == our.data.get(key), (name, key)


def helm_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "helmhome"
    return {**os.environ, "HELM_CONFIG_HOME": str(home / "config"), "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_DATA_HOME": str(home / "data")}


@pytest.mark.helm
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_helm_uses_an_index_chartgen_wrote(helm: str, repo: Path, tmp_path: Path, fmt: str) -> None:
    import subprocess

    index(repo, fmt=fmt)
    # A second pass exercises the splice path (YAML) on an existing index.
    (repo / "alpha-1.0.0.tgz").rename(repo / "nested" / "alpha-1.0.0.tgz")
    index(repo)
    env = helm_env(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([helm, *args], capture_output=True, text=True, env=env, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc

    (tmp_path / "pulled").mkdir()
    with serve_directory(repo) as url:
        run("repo", "add", "cg", url)
        found = json.loads(run("search", "repo", "cg/", "--versions", "--devel", "-o", "json").stdout)
        assert sorted((f["name"], f["version"]) for f in found) == [
            ("cg/alpha", "1.0.0"), ("cg/alpha", "1.10.0"), ("cg/alpha", "1.9.0-rc.1"), ("cg/beta", "0.1.0")]
        run("pull", "cg/alpha", "--version", "1.0.0", "-d", str(tmp_path / "pulled"))
        run("pull", "cg/beta", "-d", str(tmp_path / "pulled"))
    assert (tmp_path / "pulled" / "alpha-1.0.0.tgz").read_bytes() == (repo / "nested" / "alpha-1.0.0.tgz").read_bytes()
    assert (tmp_path / "pulled" / "beta-0.1.0.tgz").read_bytes() == (repo / "nested" / "beta-0.1.0.tgz").read_bytes()


# --- the parallel (forked) loader of big YAML indexes ------------------------------------------

def big_index_text(charts: int = 40, versions: int = 5) -> str:
    entries = {f"c{c:03d}": [{"apiVersion": "v2", "name": f"c{c:03d}", "version": f"1.{v}.0", "digest": f"{c:03d}{v}",
                              "created": "2020-01-01T00:00:00Z", "urls": [f"c{c:03d}-1.{v}.0.tgz"],
                              "description": "d"} for v in reversed(range(versions))]
               for c in range(charts)}
    return emit_yaml({"apiVersion": "v1", "entries": entries, "generated": "2020-01-01T00:00:00Z"})


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    import chartgen.index as index_module

    monkeypatch.setattr(index_module, "PARALLEL_MIN_BYTES", 0)


def test_parallel_load_equals_full_load(parallel: None) -> None:
    text = big_index_text()
    fast = IndexFile.loads(text)
    assert fast.entries._lazy, "the forked loader was not used"
    assert len(fast) == 200 and fast.versions("c000") == ["1.4.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0"]
    full = IndexFile.loads(text, yaml_backend="pyyaml")
    assert not full.entries._lazy
    assert fast.document()["entries"] == full.document()["entries"]
    assert fast.api_version == full.api_version == "v1"


def test_parallel_load_then_splice_touches_one_chart(parallel: None) -> None:
    text = big_index_text()
    index_ = IndexFile.loads(text)
    index_.put(ChartVersion({"name": "c001", "version": "2.0.0", "urls": ["c001-2.0.0.tgz"], "digest": "x"}))
    out = index_.dumps()
    assert out.count("\n") == text.count("\n") + 5  # digest, name, urls:, the url, version
    assert text[text.index("  c002:"):text.index("generated:")] in out
    assert [e.version for e in IndexFile.loads(out).entries["c001"]][:2] == ["2.0.0", "1.4.0"]


@pytest.mark.parametrize(("damage", "message"), [
    (lambda t: t.replace("    version: 1.3.0\n", "    version: 1.3.0\n    version: 9.9.9\n", 1), "duplicate"),
    (lambda t: t.replace("  c001:\n", "  c001:\n  - null\n", 1), r"entries.c001\[0\] is null"),
    (lambda t: t.replace("  - apiVersion: v2\n    created", "  - apiVersion: v2\n    name: zzz\n    created", 1),
     "duplicate"),
    (lambda t: t.replace("  c003:\n", "  c001:\n", 1), "duplicate"),
    (lambda t: t.replace("    description: d\n", "    description: *nowhere\n", 1), "not valid YAML"),
    (lambda t: t.replace("    version: 1.0.0\n", "    version: 1.0\n", 1), "no version string"),
])
def test_parallel_load_errors_match_the_full_parse(parallel: None, damage, message: str) -> None:
    text = damage(big_index_text())
    with pytest.raises(IndexFileError, match=message):
        IndexFile.loads(text)


def test_parallel_load_skipped_when_threads_run(parallel: None) -> None:
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        loaded = IndexFile.loads(big_index_text())
    finally:
        stop.set()
        thread.join()
    assert not loaded.entries._lazy and len(loaded) == 200
