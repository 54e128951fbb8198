"""``chartgen lint``: helm lint, rendered-manifest validation, env profiles and built-in rules.

For each chart and each profile (values.yaml, every values-*.yaml of the chart, each --values
file): ``helm lint``, then ``helm template`` for each Kubernetes version, every manifest checked
against the strict Kubernetes schemas (all errors of each resource), and the built-in rules below.
Checks that need no helm (Chart.yaml, values files, plaintext secrets, version increment) run
even when helm is missing. Results are data (:class:`LintMessage`); the CLI picks the exit code.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chartgen import k8s_schema, lint_batch
from chartgen.chart import CHART_FILE, CHARTS_DIR, VALUES_FILE, YAML_LOADER, validate_chart_name
from chartgen.errors import ChartgenError, HelmNotFoundError, UsageError
from chartgen.helm import Helm, find_helm

ERROR, WARNING, INFO = "ERROR", "WARNING", "INFO"
_RANK = {INFO: 0, WARNING: 1, ERROR: 2}

#: Built-in rules: id -> (severity, what it checks). Stable ids; each can be skipped (--skip-rule).
RULES: dict[str, tuple[str, str]] = {
    "chart-yaml": (ERROR, "Chart.yaml exists and is valid YAML"),
    "chart-metadata": (ERROR, "Chart.yaml has apiVersion, name (a DNS-1123 label) and version"),
    "chart-version": (ERROR, "the chart version is strict SemVer 2"),
    "chart-icon": (INFO, "Chart.yaml has an icon"),
    "chart-maintainers": (INFO, "Chart.yaml lists maintainers"),
    "values-yaml": (ERROR, "values.yaml, the profiles and --values files are valid YAML mappings"),
    "values-plaintext-secret": (WARNING, "no plaintext secret in values.yaml (use an existing Secret instead)"),
    "helm-missing": (ERROR, "a helm binary is available for the checks that need it"),
    "helm-lint": (ERROR, "`helm lint` passes (its own severities are kept)"),
    "template-render": (ERROR, "`helm template` renders the chart"),
    "manifest-yaml": (ERROR, "the rendered manifests are valid YAML objects with kind and apiVersion"),
    "k8s-schema": (ERROR, "every manifest validates against the strict Kubernetes schema"),
    "k8s-schema-unknown": (INFO, "a kind without a bundled schema (a CRD) was not validated"),
    "image-tag": (WARNING, "images are pinned: no `latest` tag, no missing tag"),
    "resources": (WARNING, "containers set CPU and memory requests and limits"),
    "probes": (WARNING, "long-running containers have liveness and readiness probes"),
    "run-as-non-root": (WARNING, "pods or containers set runAsNonRoot: true"),
    "privileged": (ERROR, "no privileged container; allowPrivilegeEscalation is false"),
    "host-path": (WARNING, "no hostPath volumes"),
    "deprecated-api": (ERROR, "no apiVersion removed in (ERROR) or deprecated for (WARNING) the target version"),
    "selector-mismatch": (ERROR, "a workload's selector matches its own pod template labels"),
    "service-selector": (WARNING, "a Service selects a pod template of the chart"),
    "backend-missing": (ERROR, "Ingress and HTTPRoute backends name a Service and port of the chart"),
    "replicas-with-hpa": (WARNING, "no replicas on a workload an HPA scales"),
    "version-increment": (ERROR, "with --since: a changed chart has a greater version than at REF"),
}


@dataclass(frozen=True)
class LintMessage:
    """One finding: severity, chart, profile, file or resource, rule id and message."""

    severity: str
    chart: str
    profile: str
    path: str
    rule: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class ChartLint:
    """The findings of one chart."""

    chart: str
    name: str = ""
    version: str = ""
    messages: list[LintMessage] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(1 for m in self.messages if m.severity == severity)

    def to_dict(self) -> dict[str, Any]:
        return {"chart": self.chart, "name": self.name, "version": self.version, "errors": self.count(ERROR),
                "warnings": self.count(WARNING), "infos": self.count(INFO),
                "messages": [m.to_dict() for m in self.messages]}


@dataclass
class LintResult:
    """The findings of all charts, and how they were obtained."""

    charts: list[ChartLint]
    helm: str | None
    kube_versions: list[str]
    strict: bool = False

    def count(self, severity: str) -> int:
        return sum(c.count(severity) for c in self.charts)

    @property
    def passed(self) -> bool:
        return self.count(ERROR) == 0 and not (self.strict and self.count(WARNING))

    def to_dict(self) -> dict[str, Any]:
        return {"summary": {"charts": len(self.charts), "errors": self.count(ERROR), "warnings": self.count(WARNING),
                            "infos": self.count(INFO), "strict": self.strict, "passed": self.passed},
                "helm": self.helm, "kube_versions": self.kube_versions,
                "charts": [c.to_dict() for c in self.charts]}


@dataclass
class _Context:
    helm: Helm | None
    helm_problem: str | None
    strict: bool
    values: list[Path]
    kube_versions: list[str]
    api_versions: list[str]
    since: str | None
    skip: frozenset[str]
    tmp: Path  # for copies of charts, umbrellas and lint copies; removed when lint() returns
    batch: bool = True


def lint(chart_dirs: Iterable[str | os.PathLike[str]], *, strict: bool = False,
         values: Iterable[str | os.PathLike[str]] = (), kube_versions: Iterable[str] = (),
         api_versions: Iterable[str] = (), since: str | None = None, skip_rules: Iterable[str] = (),
         helm: str | None = None, jobs: int | None = None,
         vendored: dict[str, dict[str, bytes]] | None = None, batch: bool = True) -> LintResult:
    """Lint each chart (in parallel, ``jobs`` at a time) and return every finding.

    ``vendored`` (by chart dir) supplies dependency archives for charts/ that are not on disk (a
    release builds its monorepo dependencies itself); such a chart is linted in a temporary copy.
    ``batch`` lets one helm process serve several compatible charts and profiles (the findings are
    the same; see :mod:`chartgen.lint_batch`); without it helm runs once per chart and profile.
    """
    dirs = [Path(d) for d in chart_dirs]
    if not dirs:
        raise UsageError("give at least one chart directory")
    skip = frozenset(skip_rules)
    unknown = sorted(skip - RULES.keys())
    if unknown:
        raise UsageError(f"unknown rule {unknown[0]!r} in --skip-rule; rules: {', '.join(RULES)}")
    versions = [k8s_schema.minor(v) for v in kube_versions] or k8s_schema.default_versions()
    for version in versions:
        if k8s_schema.schema_version(version) is None:
            raise UsageError(f"--kube-version {version}: schemas start at {k8s_schema.bundled_versions()[0]}")
    value_files = [Path(v) for v in values]
    for value_file in value_files:
        if not value_file.is_file():
            raise UsageError(f"--values {value_file}: no such file")
    try:
        found: Helm | None = find_helm(helm)
        problem = None
    except HelmNotFoundError as exc:
        found, problem = None, exc.message
    with tempfile.TemporaryDirectory(prefix="chartgen-lint-") as tmp:
        ctx = _Context(found, problem, strict, value_files, versions, list(api_versions), since, skip, Path(tmp),
                       batch)
        # Charts with vendored dependencies are linted in a copy with the archives in charts/.
        linted_dirs = []
        for i, chart_dir in enumerate(dirs):
            extra = (vendored or {}).get(str(chart_dir))
            if not extra:
                linted_dirs.append(chart_dir)
                continue
            copy = Path(tmp) / str(i) / chart_dir.name
            shutil.copytree(chart_dir, copy, symlinks=True)
            for rel, data in extra.items():
                (copy / rel).parent.mkdir(parents=True, exist_ok=True)
                (copy / rel).write_bytes(data)
            linted_dirs.append(copy)
        charts = _lint_charts(linted_dirs, ctx, jobs or os.cpu_count() or 1)
    for chart_dir, chart in zip(dirs, charts, strict=True):
        if chart.chart != str(chart_dir):
            chart.chart = str(chart_dir)
            chart.messages = [LintMessage(m.severity, str(chart_dir), m.profile, m.path, m.rule, m.message)
                              for m in chart.messages]
    helm_version = ".".join(map(str, found.version)) if found else None
    return LintResult(charts, helm_version, versions, strict)


# --- one chart ----------------------------------------------------------------------------

class _Collector:
    """The findings of one chart; profiles may report concurrently (from the lint thread pool)."""

    def __init__(self, chart: str, skip: frozenset[str]) -> None:
        self.chart = chart
        self.skip = skip
        self.order: list[str] = []  # profile names in chart order, to list merged profiles stably
        self._found: dict[tuple[str, str, str, str], set[str]] = {}
        self._lock = threading.Lock()

    def add(self, rule: str, path: str, message: str, *, profile: str = "", severity: str | None = None) -> None:
        if rule in self.skip:
            return
        key = (severity or RULES[rule][0], rule, path, message)
        with self._lock:  # the same finding in several profiles becomes one message listing them
            self._found.setdefault(key, set()).add(profile)

    @property
    def messages(self) -> list[LintMessage]:
        rank = {name: i for i, name in enumerate(self.order)}
        out = []
        for (severity, rule, path, message), profiles in self._found.items():
            names = ",".join(sorted((p for p in profiles if p), key=lambda p: (rank.get(p, len(rank)), p)))
            out.append(LintMessage(severity, self.chart, names, path, rule, message))
        return sorted(out, key=lambda m: (-_RANK[m.severity], m.rule, m.path, m.message, m.profile))


@dataclass(frozen=True)
class _Profile:
    name: str
    args: list[str]  # helm's value arguments for it
    path: Path | None  # the profile's file; None for the chart's own values.yaml
    values: dict[str, Any]
    text: str = ""  # the profile file's text (kept for embedding it in an umbrella's values)


@dataclass
class _Prepared:
    chart_dir: Path
    result: ChartLint
    out: _Collector
    profiles: list[_Profile]
    #: one `helm template` serves every Kubernetes version (see _version_independent)
    single_render: bool = False
    #: why the chart cannot share an umbrella render (None: it can; see lint_batch.batch_blocker)
    blocker: str | None = "not analysed"
    defines: frozenset[str] = frozenset()


def _prepare_chart(chart_dir: Path, ctx: _Context) -> _Prepared:
    """The checks that need no helm, and the profiles to run helm for."""
    out = _Collector(str(chart_dir), ctx.skip)
    result = ChartLint(chart=str(chart_dir))
    chart_file = chart_dir / CHART_FILE
    if not chart_file.is_file():
        out.add("chart-yaml", CHART_FILE, f"no {CHART_FILE} in {chart_dir}; is it a chart directory?")
        return _Prepared(chart_dir, result, out, [])
    meta = _check_chart_yaml(chart_file, out)
    if meta:
        result.name, result.version = str(meta.get("name", "")), str(meta.get("version", ""))
    profiles = _profiles(chart_dir, ctx, out)
    out.order = [profile.name for profile in profiles]
    if ctx.since and meta:
        _check_increment(chart_dir, ctx.since, out)
    if ctx.helm is None:
        out.add("helm-missing", "", f"{ctx.helm_problem} (only the checks that need no helm ran)")
        profiles = []
    elif meta is None:
        profiles = []
    prepared = _Prepared(chart_dir, result, out, profiles)
    if profiles and meta is not None:
        templates = _template_texts(chart_dir)
        prepared.single_render = _version_independent(chart_dir, meta, ctx.kube_versions, templates)
        if prepared.single_render and ctx.batch:
            prepared.blocker = lint_batch.batch_blocker(meta, templates, profiles[0].values)
            prepared.defines = lint_batch.defines(templates)
    return prepared


def _materialize(prepared: _Prepared, ctx: _Context) -> Path | None:
    """The chart's files for umbrellas, written once; None (and the chart is not batched) if they
    cannot be read, which its own `helm lint` will then report."""
    files = Path(tempfile.mkdtemp(prefix="files-", dir=ctx.tmp))
    try:
        lint_batch.materialize(prepared.chart_dir, files)
    except (ChartgenError, OSError):
        prepared.blocker = "its files cannot be read"
        return None
    return files


def _template_texts(chart_dir: Path) -> dict[str, str]:
    templates = chart_dir / "templates"
    return {str(p.relative_to(chart_dir)): p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(templates.rglob("*")) if p.is_file()}


def _lint_charts(chart_dirs: list[Path], ctx: _Context, jobs: int) -> list[ChartLint]:
    """Lint charts with one pool over every group of batched pairs and every other (chart, profile),
    so that the cores stay busy to the end."""
    prepared = [_prepare_chart(d, ctx) for d in chart_dirs]
    pairs = [(p, profile) for p in prepared for profile in p.profiles]
    files = {id(p): _materialize(p, ctx) for p in prepared if p.blocker is None}
    members, alone = [], []
    for key, (p, profile) in enumerate(pairs):
        text = None
        if p.blocker is None and profile.path is not None and profile.values:
            text = lint_batch.embeddable(profile.text)
            if text is None:
                alone.append(key)
                continue
        source = files.get(id(p))
        if p.blocker is None and source is not None:
            members.append(lint_batch.Member(key, str(p.result.name), source, p.defines, text))
        else:
            alone.append(key)
    groups = lint_batch.plan(members, jobs) if members else []
    tasks: list[Callable[[], None]] = [functools.partial(_lint_group, group, pairs, ctx) for group in groups]
    tasks += [functools.partial(_lint_pair, *pairs[key], ctx) for key in alone]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(lambda task: task(), tasks))
    for p in prepared:
        p.result.messages = p.out.messages
    return [p.result for p in prepared]


def _check_chart_yaml(chart_file: Path, out: _Collector) -> dict[str, Any] | None:
    try:
        meta = yaml.load(chart_file.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        out.add("chart-yaml", CHART_FILE, f"not valid YAML: {_one_line(exc)}")
        return None
    if not isinstance(meta, dict):
        out.add("chart-yaml", CHART_FILE, "not a mapping")
        return None
    for key in ("apiVersion", "name", "version"):
        if not meta.get(key):
            out.add("chart-metadata", CHART_FILE, f"required field {key!r} is missing")
    if meta.get("name"):
        try:
            validate_chart_name(str(meta["name"]))
        except ChartgenError as exc:
            out.add("chart-metadata", CHART_FILE, exc.message)
    if meta.get("version") is not None:
        from chartgen.version import parse_version

        try:
            parse_version(str(meta["version"]), "version")
        except ChartgenError as exc:
            out.add("chart-version", CHART_FILE, exc.message)
    if not meta.get("icon"):
        out.add("chart-icon", CHART_FILE, "no icon: chart repositories and Artifact Hub show one")
    if not meta.get("maintainers"):
        out.add("chart-maintainers", CHART_FILE, "no maintainers: say who to contact about the chart")
    return meta


def _load_values(path: Path, label: str, out: _Collector) -> tuple[dict[str, Any], str] | None:
    """The values in ``path`` and its text, or None (reported) if it is not a YAML mapping."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=YAML_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        out.add("values-yaml", label, f"not valid YAML: {_one_line(exc)}")
        return None
    if data is not None and not isinstance(data, dict):
        out.add("values-yaml", label, "must be a mapping of values")
        return None
    return data or {}, text


def _profiles(chart_dir: Path, ctx: _Context, out: _Collector) -> list[_Profile]:
    """values.yaml, each values-*.yaml and each --values file, with the values they hold."""
    defaults_file = chart_dir / VALUES_FILE
    defaults: dict[str, Any] = {}
    if defaults_file.is_file():
        loaded = _load_values(defaults_file, VALUES_FILE, out)
        if loaded is None:
            return []
        defaults = loaded[0]
        _check_plaintext_secrets(defaults, out)
    profiles = [_Profile("default", [], None, defaults)]
    named = [(p.stem.removeprefix("values-"), p, p.name) for p in sorted(chart_dir.glob("values-*.yaml"))]
    for name, path, label in [*named, *((str(e), e, str(e)) for e in ctx.values)]:
        loaded = _load_values(path, label, out)
        if loaded is not None:
            profiles.append(_Profile(name, ["-f", str(path)], path, *loaded))
    return profiles


_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api[-_]?key|private[-_]?key|credentials?)$", re.I)


def _check_plaintext_secrets(values: dict[str, Any], out: _Collector) -> None:
    def walk(node: Any, path: str, under_secret_data: bool) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                key_s = str(key)
                sub = f"{path}.{key_s}" if path else key_s
                if isinstance(value, str) and value and not key_s.lower().startswith("existing") and (
                        under_secret_data or _SECRET_KEY.search(key_s)):
                    out.add("values-plaintext-secret", VALUES_FILE,
                            f"{sub} holds a plaintext secret; leave it empty and point the chart at an existing "
                            "Secret (e.g. secret.existingSecret), or pass it at install time")
                # Everything under a `secret.data` / `secret.stringData` map is a secret value.
                holds_secrets = key_s in ("data", "stringData") and path.lower().endswith("secret")
                walk(value, sub, holds_secrets)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]", False)

    walk(values, "", False)


def _check_increment(chart_dir: Path, since: str, out: _Collector) -> None:
    from chartgen.changes import changed_charts

    cwd = Path.cwd()
    try:
        result = changed_charts(chart_dir.parent, since, cwd=cwd, check_versions=True)
    except ChartgenError as exc:
        out.add("version-increment", CHART_FILE, exc.message)
        return
    for chart in result.charts:
        if chart.problem and (cwd / chart.path).resolve() == chart_dir.resolve():
            out.add("version-increment", CHART_FILE, chart.problem)


# --- helm lint and rendering ----------------------------------------------------------------

_HELM_LINE = re.compile(r"^\[(ERROR|WARNING|INFO)\] ([^:]*): (.*)$")


def _lint_pair(prepared: _Prepared, profile: _Profile, ctx: _Context) -> None:
    """One chart with one profile: `helm lint`, then `helm template` for each Kubernetes version."""
    assert ctx.helm is not None
    chart_dir, out = prepared.chart_dir, prepared.out
    _helm_lint_findings(_output_lines(_helm_lint(ctx, str(chart_dir), *profile.args)), profile.name, out)
    shared = None  # one rendering serves every version when the templates cannot tell them apart
    for version in ctx.kube_versions:
        docs = shared if shared is not None else _render(chart_dir, profile.name, profile.args, version, ctx, out)
        if docs is None:
            return
        if prepared.single_render:
            shared = docs
        _check_docs(docs, version, profile.name, out, first=version == ctx.kube_versions[0])


def _lint_group(group: list[lint_batch.Member], pairs: list[tuple[_Prepared, _Profile]], ctx: _Context) -> None:
    """Render a group of pairs as one umbrella chart and `helm lint` them in one call; a group whose
    render fails is halved until the failing pairs are found, which then run on their own."""
    assert ctx.helm is not None
    root = Path(tempfile.mkdtemp(prefix="umbrella-", dir=ctx.tmp))
    lint_batch.write_umbrella(root, group)
    proc = ctx.helm.run(_template_args(root, ctx.kube_versions[0], ctx), check=False)
    if proc.returncode != 0:
        if len(group) == 1:
            _lint_pair(*pairs[group[0].key], ctx)
        else:
            _lint_group(group[:len(group) // 2], pairs, ctx)
            _lint_group(group[len(group) // 2:], pairs, ctx)
        return
    rendered, coalesced = lint_batch.split_umbrella(_split_sources(proc.stdout))
    to_lint: dict[str, tuple[_Prepared, _Profile]] = {}
    for member in group:
        prepared, profile = pairs[member.key]
        lint_path = str(prepared.chart_dir)
        if member.profile_text is not None:
            defaults = prepared.profiles[0].values
            helm_values = coalesced.get(member.name) if isinstance(coalesced, dict) else None
            if isinstance(helm_values, dict) and "global" not in defaults and helm_values.get("global") == {}:
                helm_values = {k: v for k, v in helm_values.items() if k != "global"}  # injected for subcharts
            if not lint_batch.same_values(helm_values, lint_batch.coalesce(profile.values, defaults)):
                _lint_pair(prepared, profile, ctx)  # helm read the profile otherwise than chartgen: no shortcut
                continue
            # After the render, the umbrella's copy of the chart becomes the profile's lint copy.
            copy = lint_batch.member_dir(root, member)
            lint_batch.set_values(copy, helm_values)
            lint_path = str(copy)
        to_lint[lint_path] = (prepared, profile)
        docs = _parse_manifests(rendered.get(member.name, []), profile.name, prepared.out)
        for version in ctx.kube_versions:
            _check_docs(docs, version, profile.name, prepared.out, first=version == ctx.kube_versions[0])
    if not to_lint:
        return
    sections = lint_batch.split_lint_output(_helm_lint(ctx, *to_lint).stdout)
    for lint_path, (prepared, profile) in to_lint.items():
        lines = sections.get(lint_path)
        if lines is None:  # helm did not get to it: lint it on its own
            lines = _output_lines(_helm_lint(ctx, str(prepared.chart_dir), *profile.args))
        _helm_lint_findings((line.replace(lint_path, str(prepared.chart_dir)) for line in lines), profile.name,
                            prepared.out)


def _helm_lint(ctx: _Context, *args: str) -> subprocess.CompletedProcess[str]:
    """`helm lint ARGS`, with --strict when asked."""
    assert ctx.helm is not None
    return ctx.helm.run(["lint", *args, *(["--strict"] if ctx.strict else [])], check=False)


def _output_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return (proc.stdout + proc.stderr).splitlines()


def _helm_lint_findings(lines: Iterable[str], profile: str, out: _Collector) -> None:
    for line in lines:
        match = _HELM_LINE.match(line.strip())
        if match:
            severity, path, message = match.groups()
            if severity == INFO and "icon is recommended" in message:
                continue  # reported by chartgen's own chart-icon rule
            out.add("helm-lint", path or CHART_FILE, message, profile=profile, severity=severity)


def _check_docs(docs: list[tuple[dict[str, Any], str]], version: str, profile: str, out: _Collector, *,
                first: bool) -> None:
    """Schema, deprecation and (once per profile: ``first``) the built-in rules on one rendering."""
    for doc, source in docs:
        _validate_doc(doc, source, version, profile, out)
    for resource, message, severity in _deprecated_apis(docs, version):
        out.add("deprecated-api", resource, message, profile=profile, severity=severity)
    if first:
        for rule, path, message in check_manifests([d for d, _ in docs]):
            out.add(rule, path, message, profile=profile, severity=severity_of(rule, message))


_COMPARATOR = re.compile(r"\s*(>=|<=|!=|>|<|=)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?\s*")


def _admits(constraint: str, version: str) -> bool | None:
    """Whether a simple kubeVersion constraint (comparators, ',' or space for AND, '||' for OR) admits
    ``version``; None when it uses anything else (~, ^, x-ranges), so the caller stays conservative."""
    target = tuple(int(x) for x in [*version.split("."), "0", "0"][:3])
    for alternative in constraint.split("||"):
        ok = True
        parts = [p for p in re.split(r",|\s+(?=[<>=!])", alternative.strip()) if p.strip()]
        if not parts:
            return None
        for part in parts:
            match = _COMPARATOR.fullmatch(part)
            if not match:
                return None
            op, major, minor, patch = match.groups()
            bound = (int(major), int(minor or 0), int(patch or 0))
            ok = ok and {">=": target >= bound, "<=": target <= bound, ">": target > bound, "<": target < bound,
                         "!=": target != bound}.get(op or "=", target == bound)
        if ok:
            return True
    return False


def _version_independent(chart_dir: Path, meta: dict[str, Any], versions: list[str], templates: dict[str, str]
                         ) -> bool:
    """Whether `helm template` gives the same output for every Kubernetes version: no subcharts, no
    template reads .Capabilities.KubeVersion, and Chart.yaml's kubeVersion admits every version."""
    if (chart_dir / CHARTS_DIR).exists():
        return False  # subcharts may read the Kubernetes version: render for each version
    if any("KubeVersion" in text for text in templates.values()):
        return False
    constraint = meta.get("kubeVersion")
    return not constraint or all(_admits(str(constraint), v) is True for v in versions)


def _render(chart_dir: Path, profile: str, args: list[str], version: str, ctx: _Context, out: _Collector
            ) -> list[tuple[dict[str, Any], str]] | None:
    assert ctx.helm is not None
    cmd = [*_template_args(chart_dir, version, ctx), *args]
    try:
        proc = ctx.helm.run(cmd, check=False)
    except subprocess.SubprocessError as exc:  # pragma: no cover - timeouts are HelmError already
        out.add("template-render", "", str(exc), profile=profile)
        return None
    if proc.returncode != 0:
        out.add("template-render", "", f"Kubernetes {version}: {_helm_error(proc.stderr, proc.returncode)}",
                profile=profile)
        return None
    return _parse_manifests(_split_sources(proc.stdout), profile, out)


def _helm_error(stderr: str, returncode: int) -> str:
    """helm's error as one line: helm 4 spreads one error over several indented lines."""
    lines = stderr.strip().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Error:")), None)
    if start is None:
        return next((line.strip() for line in lines if line.strip()), f"helm failed with exit code {returncode}")
    block = [lines[start].removeprefix("Error:")]
    for line in lines[start + 1:]:
        if not line.strip():
            break
        block.append(line)
    return " ".join(" ".join(block).split())


def _template_args(chart_dir: Path, version: str, ctx: _Context) -> list[str]:
    cmd = ["template", "chartgen-lint", str(chart_dir), "--kube-version", f"{version}.0"]
    for api in ctx.api_versions:
        cmd += ["--api-versions", api]
    return cmd


def _parse_manifests(sources: Iterable[tuple[str, str]], profile: str, out: _Collector
                     ) -> list[tuple[dict[str, Any], str]]:
    """The rendered objects with their template paths; what is not a Kubernetes object is reported."""
    docs = []
    for source, text in sources:
        try:
            loaded = list(yaml.load_all(text, Loader=YAML_LOADER))
        except yaml.YAMLError as exc:
            out.add("manifest-yaml", source, f"not valid YAML: {_one_line(exc)}", profile=profile)
            continue
        for doc in loaded:
            if doc is None:
                continue
            if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                out.add("manifest-yaml", source, "a rendered document is not an object with kind and apiVersion",
                        profile=profile)
                continue
            docs.append((doc, source))
    return docs


def _split_sources(manifest: str) -> Iterator[tuple[str, str]]:
    """Split `helm template` output into (template path, text) by its '# Source:' comments."""
    current, lines = "", []
    for line in manifest.splitlines():
        if line.startswith("# Source: "):
            if lines:
                yield current, "\n".join(lines)
            current, lines = line[len("# Source: "):].split("/", 1)[-1], []
        elif line.strip() == "---":
            if lines:
                yield current, "\n".join(lines)
            lines = []
        else:
            lines.append(line)
    if lines:
        yield current, "\n".join(lines)


def _resource(doc: dict[str, Any]) -> str:
    name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc.get("metadata"), dict) else "?"
    return f"{doc.get('kind')}/{name}"


def _validate_doc(doc: dict[str, Any], source: str, version: str, profile: str, out: _Collector) -> None:
    problems = k8s_schema.validate(doc, version)
    where = f"{_resource(doc)} ({source})"
    if problems is None:
        out.add("k8s-schema-unknown", where, f"no schema for {doc.get('kind')} {doc.get('apiVersion')} (a CRD?); "
                "not validated", profile=profile)
        return
    for problem in problems:
        out.add("k8s-schema", where, f"Kubernetes {version}: {problem.path or '(top level)'}: {problem.message}",
                profile=profile)


def _deprecated_apis(docs: list[tuple[dict[str, Any], str]], version: str) -> Iterator[tuple[str, str, str]]:
    target = tuple(int(x) for x in version.split("."))
    for doc, _source in docs:
        lifecycle = k8s_schema.api_lifecycle(str(doc["apiVersion"]), str(doc["kind"]))
        if lifecycle is None:
            continue
        deprecated, removed = (tuple(int(x) for x in v.split(".")) for v in lifecycle)
        if target >= removed:
            yield (_resource(doc), f"{doc['apiVersion']} {doc['kind']} was removed in Kubernetes {lifecycle[1]} "
                   f"(target {version}); use the current API version", ERROR)
        elif target >= deprecated:
            yield (_resource(doc), f"{doc['apiVersion']} {doc['kind']} is deprecated since Kubernetes "
                   f"{lifecycle[0]} and removed in {lifecycle[1]}", WARNING)


# --- rules on rendered manifests -------------------------------------------------------------

_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")


def _pod_template(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(pod metadata, pod spec) of a workload, or None."""
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    if kind == "Pod":
        return doc.get("metadata") or {}, spec
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec") or {})
    if kind in _WORKLOADS:
        template = spec.get("template") or {}
        return template.get("metadata") or {}, template.get("spec") or {}
    return None


def _is_hook(doc: dict[str, Any]) -> bool:
    annotations = (doc.get("metadata") or {}).get("annotations") or {}
    return "helm.sh/hook" in annotations


def check_manifests(docs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The built-in rules on one set of rendered manifests: (rule, resource, message)."""
    found: list[tuple[str, str, str]] = []
    services = {(d.get("metadata") or {}).get("name"): d for d in docs if d.get("kind") == "Service"}
    templates: list[dict[str, str]] = []
    for doc in docs:
        pod = _pod_template(doc)
        if pod is None:
            continue
        meta, spec = pod
        resource = _resource(doc)
        labels = meta.get("labels") or {}
        templates.append(labels)
        long_running = doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet") or (
            doc["kind"] == "Pod" and not _is_hook(doc))
        selector = ((doc.get("spec") or {}).get("selector") or {}).get("matchLabels") if doc["kind"] != "Pod" else None
        if selector:
            missing = {k: v for k, v in selector.items() if labels.get(k) != v}
            if missing:
                found.append(("selector-mismatch", resource, f"selector {missing} does not match the pod template "
                              f"labels {labels}: the workload would manage no pods"))
        pod_sc = spec.get("securityContext") or {}
        for volume in spec.get("volumes") or []:
            if isinstance(volume, dict) and "hostPath" in volume:
                found.append(("host-path", resource, f"volume {volume.get('name')!r} mounts a hostPath from the node; "
                              "use a PersistentVolumeClaim, ConfigMap, Secret or emptyDir"))
        for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            if not isinstance(container, dict):
                continue
            is_init = container in (spec.get("initContainers") or [])
            where = f"{resource} container {container.get('name')!r}"
            found.extend(_image_findings(where, container.get("image")))
            resources = container.get("resources") or {}
            lacking = [f"{kind}.{res}" for kind in ("requests", "limits") for res in ("cpu", "memory")
                       if not (resources.get(kind) or {}).get(res)]
            if lacking:
                found.append(("resources", where, f"no {', '.join(lacking)}: set resources so the scheduler can "
                              "place the pod and a runaway container is contained"))
            if long_running and not is_init:
                probes = [p for p in ("livenessProbe", "readinessProbe") if not container.get(p)]
                if probes:
                    found.append(("probes", where, f"no {' or '.join(probes)}: Kubernetes cannot tell a stuck or "
                                  "unready container"))
            sc = container.get("securityContext") or {}
            if not (sc.get("runAsNonRoot") is True or (pod_sc.get("runAsNonRoot") is True and
                                                       sc.get("runAsNonRoot") is not False)):
                found.append(("run-as-non-root", where, "runAsNonRoot is not true: the container may run as root"))
            if sc.get("privileged") is True:
                found.append(("privileged", where, "runs privileged: it has every capability of the node"))
            if sc.get("allowPrivilegeEscalation") is not False:
                found.append(("privileged", where, "allowPrivilegeEscalation is not false: set it to false in the "
                              "container securityContext"))
    for name, service in services.items():
        selector = (service.get("spec") or {}).get("selector")
        if selector and (service.get("spec") or {}).get("type") != "ExternalName" and not any(
                all(labels.get(k) == v for k, v in selector.items()) for labels in templates):
            found.append(("service-selector", f"Service/{name}", f"selector {selector} matches no pod template of "
                          "the chart"))
    found.extend(_backend_findings(docs, services))
    found.extend(_hpa_findings(docs))
    return found


def _image_findings(where: str, image: Any) -> list[tuple[str, str, str]]:
    if not isinstance(image, str) or not image:
        return [("image-tag", where, "no image")]
    if "@" in image:
        return []
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if not tag:
        return [("image-tag", where, f"image {image!r} has no tag, so it pulls 'latest': set image.tag or the "
                 "chart's appVersion")]
    if tag == "latest":
        return [("image-tag", where, f"image {image!r} uses the floating tag 'latest': pin a release version")]
    return []


def _service_port_ok(service: dict[str, Any], port: dict[str, Any] | int | str | None) -> bool:
    ports = (service.get("spec") or {}).get("ports") or []
    if isinstance(port, dict):
        if "number" in port:
            return any(p.get("port") == port["number"] for p in ports)
        if "name" in port:
            return any(p.get("name") == port["name"] for p in ports)
        return False
    return any(p.get("port") == port or p.get("name") == port for p in ports)


def _backend_findings(docs: list[dict[str, Any]], services: dict[Any, dict[str, Any]]) -> list[tuple[str, str, str]]:
    found = []
    for doc in docs:
        resource = _resource(doc)
        spec = doc.get("spec") or {}
        backends: list[tuple[Any, Any]] = []
        if doc.get("kind") == "Ingress":
            default = (spec.get("defaultBackend") or {}).get("service")
            if default:
                backends.append((default.get("name"), default.get("port")))
            for rule in spec.get("rules") or []:
                for path in ((rule or {}).get("http") or {}).get("paths") or []:
                    service = ((path or {}).get("backend") or {}).get("service")
                    if service:
                        backends.append((service.get("name"), service.get("port")))
        elif doc.get("kind") == "HTTPRoute":
            for rule in spec.get("rules") or []:
                for ref in (rule or {}).get("backendRefs") or []:
                    if (ref or {}).get("kind", "Service") == "Service":
                        backends.append((ref.get("name"), ref.get("port")))
        for name, port in backends:
            service = services.get(name)
            if service is None:
                found.append(("backend-missing", resource, f"backend Service {name!r} is not part of the chart"))
            elif not _service_port_ok(service, port):
                found.append(("backend-missing", resource, f"backend port {port} is not a port of Service {name!r}"))
    return found


def _hpa_findings(docs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    found = []
    for hpa in (d for d in docs if d.get("kind") == "HorizontalPodAutoscaler"):
        target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        for doc in docs:
            if doc.get("kind") == target.get("kind") and (doc.get("metadata") or {}).get("name") == target.get("name") \
                    and "replicas" in (doc.get("spec") or {}):
                found.append(("replicas-with-hpa", _resource(doc), f"sets replicas while {_resource(hpa)} scales it: "
                              "every upgrade resets the replica count; leave replicas out when autoscaling"))
    return found


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def severity_of(rule: str, message: str) -> str:
    """The severity of a rule's finding (privileged: ERROR for privileged, WARNING for escalation)."""
    if rule == "privileged" and "allowPrivilegeEscalation" in message:
        return WARNING
    return RULES[rule][0]
