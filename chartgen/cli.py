"""The ``chartgen`` command line: parse, call one core function, print its result.

Errors are caught once, in :func:`main`: a :class:`ChartgenError` becomes one ``Error:`` line
on stderr and its exit code (1 failure, 2 usage); click's own usage errors exit 2. In
``--output json`` mode stdout carries exactly one JSON document, errors included.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from chartgen import __version__
from chartgen.errors import ChartgenError


@dataclass
class Settings:
    """Global options shared by every command."""

    output: str = "text"
    verbose: int = 0
    quiet: bool = False


# The error handler in main() runs after click's context is gone; it needs the output mode.
_settings = Settings()


def _emit(result: dict[str, Any], text: Callable[[], list[str]]) -> None:
    """Print a result: one JSON document, or the text lines (unless --quiet)."""
    if _settings.output == "json":
        click.echo(json.dumps(result, indent=2, sort_keys=False))
    elif not _settings.quiet:
        for line in text():
            click.echo(line)


def _warn(messages: list[str]) -> None:
    if not _settings.quiet:
        for message in messages:
            click.echo(f"Warning: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people; json prints exactly one JSON document on stdout (errors included).")
@click.option("-v", "--verbose", count=True, help="More detail (repeat for even more).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and warnings on stderr; no text on stdout.")
@click.version_option(__version__, prog_name="chartgen")
def cli(output: str, verbose: int, quiet: bool) -> None:
    """Scaffold Go services with production-grade Helm charts; bump, lint, package and publish them.

    \b
    Exit codes: 0 success, 1 failure (or lint errors), 2 usage error.
    Shell completion (bash, zsh, fish), e.g. for bash add to ~/.bashrc:
      eval "$(_CHARTGEN_COMPLETE=bash_source chartgen)"
    """
    _settings.output, _settings.verbose, _settings.quiet = output, verbose, quiet


def _chart_metadata_options(command: Callable[..., None]) -> Callable[..., None]:
    """--icon and --maintainer, for the Chart.yaml of `new` and `chart create`."""
    command = click.option("--maintainer", "maintainers", multiple=True, metavar="'NAME <EMAIL>'",
                           help="A maintainer for Chart.yaml ('NAME' or 'NAME <EMAIL>'); repeat for several.")(command)
    return click.option("--icon", default="", metavar="URL",
                        help="Icon URL for Chart.yaml (http or https; shown by chart repositories).")(command)


@cli.command("new", short_help="Scaffold a Go HTTP service with its Helm chart.")
@click.argument("name")
@click.option("--output-dir", "-d", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Directory the service directory NAME is created in.")
@click.option("--module", metavar="GO_MODULE", help="Go module path.  [default: example.com/NAME]")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True,
              help="Port the service listens on; also the chart's containerPort.")
@click.option("--framework", type=click.Choice(["stdlib", "gin"]), default="stdlib", show_default=True,
              help="HTTP server: the standard library's net/http, or Gin.")
@click.option("--ci", default="github", show_default=True, metavar="LIST",
              help="CI pipelines to generate, comma-separated: github, gitlab, jenkins (or none).")
@click.option("--image-repository", metavar="REPO", help="Container image repository.  [default: "
              "registry.example.com/NAME]")
@click.option("--app-version", default="0.1.0", show_default=True, help="First version of the service.")
@click.option("--description", default="", help="One-line description of the service.")
@_chart_metadata_options
@click.option("--no-input", is_flag=True, help="Do not prompt (the default without a terminal, e.g. in CI).")
@click.option("--force", is_flag=True, help="Replace NAME if it already exists (atomically).")
def new_cmd(name: str, output_dir: str, module: str | None, port: int, framework: str, ci: str,
            image_repository: str | None, app_version: str, description: str, icon: str,
            maintainers: tuple[str, ...], no_input: bool, force: bool) -> None:
    """Scaffold the Go HTTP service NAME, with its Helm chart in NAME/charts/NAME.

    The service (health, readiness, metrics, graceful shutdown, tests, Dockerfile, Makefile, CI
    pipelines) comes from the cookiecutter template cookiecutter-go-service; the chart from the
    same generator as `chartgen chart create`. One set of answers drives both: port, probes,
    environment variables and image repository agree. Prompts for the answers on a terminal
    unless --no-input; nothing is written unless everything could be rendered.
    """
    from chartgen.scaffold import create_service

    interactive = not no_input and sys.stdin.isatty() and _settings.output == "text"
    result = create_service(name, output_dir, module=module, port=port, framework=framework, ci=ci,
                            image_repository=image_repository, app_version=app_version, description=description,
                            icon=icon, maintainers=maintainers, no_input=not interactive, force=force)
    _warn(result.warnings)
    _emit(result.to_dict(), lambda: [
        f"{'Replaced' if result.replaced else 'Created'} service {result.name} in {result.path} "
        f"({result.framework}, {len(result.files)} files; chart in {result.chart})",
        f"  next: cd {result.path} && make test build chart-lint",
    ])


@cli.group()
def chart() -> None:
    """Create Helm charts."""


@chart.command("create", short_help="Create a production-grade Helm chart.")
@click.argument("name")
@click.option("--output-dir", "-d", default="charts", show_default=True, type=click.Path(file_okay=False),
              help="Directory the chart directory NAME is created in.")
@click.option("--image-repository", metavar="REPO",
              help="Container image repository, without tag.  [default: registry.example.com/NAME]")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True,
              help="Port the service listens on (the container port, passed as PORT).")
@click.option("--app-version", default="0.1.0", show_default=True,
              help="appVersion of the chart; also the default image tag.")
@click.option("--description", default="", help="One-line description for Chart.yaml.")
@_chart_metadata_options
@click.option("--force", is_flag=True, help="Replace NAME if it already exists (atomically).")
def chart_create(name: str, output_dir: str, image_repository: str | None, port: int, app_version: str,
                 description: str, icon: str, maintainers: tuple[str, ...], force: bool) -> None:
    """Create the Helm chart NAME in OUTPUT_DIR/NAME.

    The chart passes `helm lint --strict` on helm 3 and helm 4, has a values schema, an env
    profile per environment (values-dev/staging/prod.yaml) and production-minded defaults.
    NAME must be a DNS-1123 label (lowercase letters, digits, '-'; at most 63 characters).
    Nothing is written unless the whole chart could be rendered; an existing chart is only
    replaced with --force.
    """
    from chartgen.scaffold import create_chart

    result = create_chart(name, output_dir, image_repository=image_repository, port=port,
                          app_version=app_version, description=description, icon=icon, maintainers=maintainers,
                          force=force)
    _warn(result.warnings)
    _emit(result.to_dict(), lambda: [
        f"{'Replaced' if result.replaced else 'Created'} chart {result.name} in {result.path} "
        f"({len(result.files)} files)",
        f"  next: chartgen lint --strict {result.path}",
        f"        helm install {result.name} {result.path} -f {result.path}/values-dev.yaml",
    ])


@cli.command("package", short_help="Package charts into reproducible archives.")
@click.argument("chart_dirs", nargs=-1, required=True, type=click.Path(file_okay=False), metavar="CHART_DIR...")
@click.option("--destination", "-d", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Directory the NAME-VERSION.tgz archives are written to (created if missing).")
def package_cmd(chart_dirs: tuple[str, ...], destination: str) -> None:
    """Package charts into reproducible NAME-VERSION.tgz archives (no helm needed).

    The same chart content always gives a byte-identical archive, whatever the file times,
    owners, umask or directory order; entry times come from SOURCE_DATE_EPOCH when it is set.
    .helmignore is honoured and dependencies in Chart.yaml must be vendored in charts/.
    Prints the archive paths.
    """
    from chartgen.archive import package_charts

    results = package_charts(list(chart_dirs), destination)
    _emit({"archives": [r.to_dict() for r in results]},
          lambda: [r.path if _settings.verbose == 0 else f"{r.path}  sha256:{r.digest}" for r in results])


@cli.command("index", short_help="Write a repository index.yaml for a directory.")
@click.argument("directory", type=click.Path(file_okay=False), metavar="DIR")
@click.option("--url", help="Base URL of the repository; entries get URL/ARCHIVE (default: relative URLs).")
@click.option("--merge", type=click.Path(dir_okay=False), metavar="FILE",
              help="Merge into this existing index: all its entries are kept, with their created times.")
@click.option("--json", "as_json", is_flag=True, help="Write index.yaml as JSON (helm reads it; fastest to load).")
@click.option("--yaml", "as_yaml", is_flag=True, help="Write YAML even when the merged index was JSON.")
def index_cmd(directory: str, url: str | None, merge: str | None, as_json: bool, as_yaml: bool) -> None:
    """Write DIR/index.yaml for the chart archives in DIR (like `helm repo index`).

    Entries are sorted by name and newest version first, with sha256 digests. Unlike helm,
    entries that are already in the index keep their `created` time, and a YAML index is
    updated in place (only the changed charts are rewritten). Without --merge the index lists
    exactly the archives in DIR. Archives are read safely; nothing is written if any archive
    or the existing index is broken.
    """
    from chartgen.repo_index import index

    if as_json and as_yaml:
        raise click.UsageError("--json and --yaml are exclusive")
    result = index(directory, url=url, merge=merge, fmt="json" if as_json else "yaml" if as_yaml else None)
    _warn(result.warnings)
    _emit(result.to_dict(), lambda: [
        f"Wrote {result.path}: {result.charts} charts, {result.versions} versions "
        f"({len(result.added)} added, {len(result.updated)} updated, {len(result.removed)} removed, "
        f"{result.kept} unchanged)",
    ])


@cli.command("bump", short_help="Bump chart versions (SemVer, text-preserving).")
@click.argument("args", nargs=-1, required=True, metavar="CHART_DIR... {major|minor|patch|prerelease|release}")
@click.option("--to", "to", metavar="X.Y.Z", help="Set this exact version (must be greater unless --force).")
@click.option("--pre-id", default="rc", show_default=True, help="Prerelease identifier for `prerelease`.")
@click.option("--app-version", metavar="V", help="Also set appVersion (written as a quoted string).")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.option("--force", is_flag=True, help="Allow --to to set a version that is not greater.")
def bump_cmd(args: tuple[str, ...], to: str | None, pre_id: str, app_version: str | None, dry_run: bool,
             force: bool) -> None:
    """Bump the chart version in each CHART_DIR/Chart.yaml (strict SemVer 2).

    \b
    major/minor/patch   as SemVer (1.2.3 -> 2.0.0 / 1.3.0 / 1.2.4)
    prerelease          1.2.3 -> 1.2.4-rc.0, then 1.2.4-rc.0 -> 1.2.4-rc.1
    release             1.2.4-rc.1 -> 1.2.4
    --to X.Y.Z          instead of a part

    Only the value of the `version:` line changes (and `appVersion:` with --app-version): comments,
    key order and quoting stay byte for byte. All charts are checked before any file is written.
    """
    from chartgen.version import PARTS, bump

    part = args[-1] if args[-1] in PARTS else None
    dirs = list(args[:-1] if part else args)
    if part and to:
        raise click.UsageError(f"give either {part} or --to, not both")
    if not dirs:
        raise click.UsageError("give at least one chart directory before the part")
    results = bump(dirs, part, to=to, pre_id=pre_id, app_version=app_version, dry_run=dry_run, force=force)
    for result in results:
        _warn(result.warnings)
    verb = "would bump" if dry_run else "bumped"
    _emit({"charts": [r.to_dict() for r in results]}, lambda: [
        f"{r.path}: {verb} {r.old_version} -> {r.new_version}"
        + (f" (appVersion {r.old_app_version} -> {r.new_app_version})"
           if r.new_app_version != r.old_app_version else "")
        for r in results])


@cli.command("changed", short_help="List the charts changed since a git ref.")
@click.option("--since", default="HEAD", show_default=True, metavar="REF",
              help="Git ref to compare the working tree with (CI: e.g. origin/main or the last release tag).")
@click.option("--charts-dir", default="charts", show_default=True, type=click.Path(file_okay=False),
              help="Directory whose subdirectories are the charts.")
@click.option("--check-versions", is_flag=True,
              help="Fail (exit 1) when a changed chart's version is not greater than at REF.")
def changed_cmd(since: str, charts_dir: str, check_versions: bool) -> None:
    """List the charts whose files changed since REF, one chart directory per line.

    Compares REF with the working tree: committed, staged, unstaged and untracked (not ignored)
    changes all count. Deleted charts are not listed; a renamed chart is listed under its new
    directory. A chart is a direct subdirectory of --charts-dir holding a Chart.yaml.
    """
    from chartgen.changes import changed_charts

    result = changed_charts(charts_dir, since, check_versions=check_versions)
    _emit(result.to_dict(), lambda: [c.path for c in result.charts])
    if result.problems:
        if _settings.output != "json":
            for problem in result.problems:
                click.echo(f"Error: {problem}", err=True)
        sys.exit(1)


@cli.command("publish", short_help="Publish archives to OCI, HTTP or file repos.")
@click.argument("archives", nargs=-1, required=True, type=click.Path(dir_okay=False), metavar="ARCHIVE...")
@click.option("--repo", "repo", required=True, metavar="URL",
              help="oci://HOST[:PORT]/PATH, http(s)://... (ChartMuseum or a static PUT repository) or file://DIR.")
@click.option("--repo-kind", type=click.Choice(["auto", "oci", "chartmuseum", "static", "local"]), default="auto",
              show_default=True, help="Force the kind of an http(s) repository instead of detecting it.")
@click.option("--username", help="Username (with --password-stdin, CHARTGEN_PASSWORD or a prompt on a terminal).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--ca-file", type=click.Path(dir_okay=False), help="CA bundle to verify the server's TLS certificate.")
@click.option("--insecure-skip-tls-verify", is_flag=True, help="Do not verify the server's TLS certificate.")
@click.option("--plain-http", is_flag=True, help="Use plain HTTP for an OCI registry.")
@click.option("--skip-existing", is_flag=True,
              help="A version already there with another digest is skipped, not refused.")
@click.option("--force", is_flag=True, help="Overwrite a version already there with another digest.")
@click.option("--init", "init", is_flag=True, help="Static repository: create index.yaml if there is none yet.")
@click.option("--timeout", type=float, default=60.0, show_default=True, metavar="SECONDS",
              help="Read timeout of each request (failed requests of idempotent steps are retried).")
def publish_cmd(archives: tuple[str, ...], repo: str, repo_kind: str, username: str | None, password_stdin: bool,
                ca_file: str | None, insecure_skip_tls_verify: bool, plain_http: bool, skip_existing: bool,
                force: bool, init: bool, timeout: float) -> None:
    """Publish chart archives to a repository; safe to re-run.

    The same version with the same digest already there is skipped (exit 0); with another digest
    it is refused (exit 1) unless --force or --skip-existing. Static repositories update index.yaml
    by compare-and-swap, so concurrent publishers lose no entry. Credentials come from the flags,
    then CHARTGEN_USERNAME/CHARTGEN_PASSWORD, then helm's registry config, then docker's
    config.json; they are never printed.
    """
    from chartgen.publish import publish
    from chartgen.repos.base import FAILED, REFUSED

    if force and skip_existing:
        raise click.UsageError("--force and --skip-existing are exclusive")
    options = _push_options(repo, username=username, password_stdin=password_stdin, ca_file=ca_file,
                            insecure_skip_tls_verify=insecure_skip_tls_verify, plain_http=plain_http,
                            force=force, skip_existing=skip_existing, init=init)

    def progress(i: int, total: int, archive: object) -> None:
        if total > 1 and sys.stderr.isatty() and not _settings.quiet and _settings.output == "text":
            click.echo(f"[{i}/{total}] {archive.name} {archive.version}", err=True)  # type: ignore[attr-defined]

    results = publish(list(archives), repo, kind=repo_kind, options=options, progress=progress, timeout=timeout)
    _emit({"results": [r.to_dict() for r in results]}, lambda: [
        f"{r.outcome:<8} {r.reference}  {('sha256:' + r.digest) if r.digest else ''}"
        .rstrip() + (f"  ({r.message})" if r.message and r.outcome != "failed" else "")
        for r in results])
    bad = [r for r in results if r.outcome in (REFUSED, FAILED)]
    if _settings.output != "json":
        for r in bad:
            click.echo(f"Error: {r.chart} {r.version}: {r.message}", err=True)
    if bad:
        sys.exit(1)


@cli.command("lint", short_help="Lint charts: helm lint, Kubernetes schemas, rules.")
@click.argument("chart_dirs", nargs=-1, type=click.Path(file_okay=False), metavar="CHART_DIR...")
@click.option("--strict", is_flag=True, help="Warnings fail the lint too (and helm lint runs with --strict).")
@click.option("--values", "-f", "values", multiple=True, type=click.Path(dir_okay=False),
              help="Also lint with this values file (repeatable); values-*.yaml of each chart are always linted.")
@click.option("--kube-version", "kube_versions", multiple=True, metavar="V",
              help="Kubernetes version to render and validate for (repeatable).  [default: the newest bundled "
                   "and the oldest still supported]")
@click.option("--api-versions", "api_versions", multiple=True, metavar="GROUP/VERSION",
              help="Extra API versions the cluster serves, as helm template takes them (repeatable).")
@click.option("--since", metavar="REF", help="Also lint the charts changed since this git ref and check that "
              "their versions went up (with no CHART_DIR: only those charts).")
@click.option("--charts-dir", default="charts", show_default=True, type=click.Path(file_okay=False),
              help="Where the charts are, for --since without CHART_DIR.")
@click.option("--skip-rule", "skip_rules", multiple=True, metavar="ID", help="Do not run this rule (repeatable).")
@click.option("--helm", "helm_path", metavar="PATH", envvar="CHARTGEN_HELM",
              help="The helm binary (3.x or 4.x).  [default: $CHARTGEN_HELM, then helm on PATH]")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), help="Charts linted at once.  [default: the cores]")
@click.option("--no-batch", is_flag=True, help="One helm process per chart and profile (slower; same findings).")
def lint_cmd(chart_dirs: tuple[str, ...], strict: bool, values: tuple[str, ...], kube_versions: tuple[str, ...],
             api_versions: tuple[str, ...], since: str | None, charts_dir: str, skip_rules: tuple[str, ...],
             helm_path: str | None, jobs: int | None, no_batch: bool) -> None:
    """Lint charts: helm lint, rendered-manifest validation, env profiles and built-in rules.

    For each chart and each profile (values.yaml, every values-*.yaml of the chart, each --values
    file): `helm lint`, `helm template` for each --kube-version, strict validation of every
    manifest against the Kubernetes schemas (all errors of each resource), and the rules listed in
    the README (their ids work with --skip-rule). Exit 1 on any ERROR, or any WARNING with --strict.
    Compatible charts share helm processes (see the README); --no-batch runs helm for each pair.
    """
    from chartgen.lint import ERROR, INFO, WARNING, lint

    dirs = list(chart_dirs)
    if not dirs:
        if not since:
            raise click.UsageError("give chart directories, or --since REF to lint the charts changed since REF")
        from chartgen.changes import changed_charts

        dirs = [c.path for c in changed_charts(charts_dir, since).charts]
        if not dirs:
            _emit({"summary": {"charts": 0, "errors": 0, "warnings": 0, "infos": 0, "strict": strict, "passed": True},
                   "charts": []}, lambda: [f"No chart changed since {since}."])
            return
    result = lint(dirs, strict=strict, values=values, kube_versions=kube_versions, api_versions=api_versions,
                  since=since, skip_rules=skip_rules, helm=helm_path, jobs=jobs, batch=not no_batch)

    def text() -> list[str]:
        lines = []
        for chart in result.charts:
            title = f"{chart.chart}" + (f" ({chart.name} {chart.version})" if chart.name else "")
            shown = [m for m in chart.messages if m.severity != INFO or _settings.verbose]
            lines.append(f"{title}: {'ok' if not chart.count(ERROR) and not chart.count(WARNING) else ''}".rstrip())
            for m in shown:
                where = ": ".join(x for x in (m.profile and f"[{m.profile}]", m.path) if x)
                lines.append(f"  {m.severity:<7} {m.rule}: {where}: {m.message}" if where else
                             f"  {m.severity:<7} {m.rule}: {m.message}")
        verdict = "passed" if result.passed else "FAILED"
        lines.append(f"{len(result.charts)} chart(s) linted with helm {result.helm or '(none)'}, Kubernetes "
                     f"{', '.join(result.kube_versions)}: {result.count(ERROR)} error(s), {result.count(WARNING)} "
                     f"warning(s), {result.count(INFO)} info(s) - {verdict}")
        return lines

    _emit(result.to_dict(), text)
    if not result.passed:
        sys.exit(1)


def _push_options(repo: str, *, username: str | None, password_stdin: bool, ca_file: str | None,
                  insecure_skip_tls_verify: bool, plain_http: bool, force: bool = False, skip_existing: bool = False,
                  init: bool = False) -> Any:
    """Credentials and TLS settings for publishing (shared by publish and release)."""
    from chartgen.credentials import resolve
    from chartgen.publish import repo_host
    from chartgen.repos.base import PushOptions

    password = None
    if password_stdin:
        if not username:
            raise click.UsageError("--password-stdin needs --username")
        password = click.get_text_stream("stdin").read().rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: standard input was empty")
    elif username and not os.environ.get("CHARTGEN_PASSWORD"):
        if not sys.stdin.isatty():
            raise click.UsageError("--username needs a password: use --password-stdin or CHARTGEN_PASSWORD "
                                   "(no prompt without a terminal)")
        password = click.prompt(f"Password for {username}", hide_input=True, err=True)
    if insecure_skip_tls_verify:
        _warn(["--insecure-skip-tls-verify: the server's certificate is not checked"])
    host = repo_host(repo)
    credentials = resolve(host, username=username, password=password) if host else None
    return PushOptions(force=force, skip_existing=skip_existing, plain_http=plain_http, ca_file=ca_file,
                       insecure_skip_tls_verify=insecure_skip_tls_verify, init=init, credentials=credentials)


@cli.command("release", short_help="Bump, lint, package and publish changed charts.")
@click.option("--charts-dir", help="Directory whose subdirectories are the charts.  [default: charts]")
@click.option("--since", metavar="REF", help="Release the charts changed since this git ref (bumping them); "
              "without it every chart is a candidate and what is already published is skipped.")
@click.option("--bump", type=click.Choice(["patch", "minor", "major", "prerelease", "release", "none"]),
              help="How to bump a changed chart whose version did not go up since REF.  [default: patch]")
@click.option("--repo", metavar="URL", help="Repository to publish to (oci://, http(s)://, file://).")
@click.option("--repo-kind", type=click.Choice(["auto", "oci", "chartmuseum", "static", "local"]),
              help="Force the kind of an http(s) repository.  [default: auto]")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), help="Charts processed at once.  [default: the cores]")
@click.option("--package-dir", help="Where archives are written.  [default: dist]")
@click.option("--dry-run", is_flag=True, help="Show what would be bumped and published; write and send nothing.")
@click.option("--git-commit", is_flag=True, help="Commit the version bumps (never pushed).")
@click.option("--git-tag", is_flag=True, help="Tag NAME-VERSION for every published chart (never pushed).")
@click.option("--strict", is_flag=True, default=None, help="Lint warnings block a chart too.")
@click.option("--skip-rule", "skip_rules", multiple=True, metavar="ID", help="Lint rule to skip (repeatable).")
@click.option("--kube-version", "kube_versions", multiple=True, metavar="V", help="Kubernetes version to lint for.")
@click.option("--helm", "helm_path", metavar="PATH", envvar="CHARTGEN_HELM", help="The helm binary for lint.")
@click.option("--username", help="Username for the repository (with --password-stdin or CHARTGEN_PASSWORD).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--ca-file", type=click.Path(dir_okay=False), help="CA bundle for the repository's TLS certificate.")
@click.option("--insecure-skip-tls-verify", is_flag=True, help="Do not verify the repository's TLS certificate.")
@click.option("--plain-http", is_flag=True, default=None, help="Plain HTTP for an OCI registry.")
@click.option("--init", "init", is_flag=True, default=None, help="Static repository: create index.yaml if missing.")
def release_cmd(charts_dir: str | None, since: str | None, bump: str | None, repo: str | None, repo_kind: str | None,
                jobs: int | None, package_dir: str | None, dry_run: bool, git_commit: bool, git_tag: bool,
                strict: bool | None, skip_rules: tuple[str, ...], kube_versions: tuple[str, ...],
                helm_path: str | None, username: str | None, password_stdin: bool, ca_file: str | None,
                insecure_skip_tls_verify: bool, plain_http: bool | None, init: bool | None) -> None:
    """Release a chart monorepo: changed charts -> bump -> lint -> package -> publish.

    Charts that depend on each other (file:// dependencies) go in dependency order, with the new
    version of a dependency written into its dependents (which are bumped too). Charts are linted,
    packaged and published in parallel. A chart that fails lint is not published, nor are the
    charts that depend on it; the others are, and the exit code is 1. Safe to re-run after a
    failure: what was published is skipped. Settings: flags, then CHARTGEN_* environment
    variables, then [tool.chartgen] in pyproject.toml or chartgen.yaml.
    """
    from chartgen.config import load
    from chartgen.release import release

    flags = {"charts_dir": charts_dir, "since": since, "bump": bump, "repo": repo, "repo_kind": repo_kind,
             "jobs": jobs, "package_dir": package_dir, "strict": strict, "skip_rules": list(skip_rules),
             "kube_versions": list(kube_versions), "plain_http": plain_http, "init": init}
    config = load(flags)
    if not config.repo:
        raise click.UsageError("no repository: pass --repo URL, set CHARTGEN_REPO, or set repo in [tool.chartgen]")
    options = _push_options(config.repo, username=username, password_stdin=password_stdin, ca_file=ca_file,
                            insecure_skip_tls_verify=insecure_skip_tls_verify, plain_http=config.plain_http,
                            init=config.init)
    show = sys.stderr.isatty() and not _settings.quiet and _settings.output == "text"
    result = release(config, options=options, dry_run=dry_run, git_commit=git_commit, git_tag=git_tag,
                     helm=helm_path, progress=(lambda m: click.echo(f"  {m}", err=True)) if show else None)

    def table() -> list[str]:
        rows = [("CHART", "VERSION", "LINT", "OUTCOME", "DIGEST")]
        for i in result.items:
            version = f"{i.old_version} -> {i.new_version}" if i.bumped else i.new_version
            lint_text = i.lint if i.lint != "failed" else f"failed ({i.lint_errors}E/{i.lint_warnings}W)"
            rows.append((i.name, version, lint_text, i.outcome, f"sha256:{i.digest[:12]}" if i.digest else "-"))
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        lines = ["  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row)).rstrip() for row in rows]
        problems = [f"{i.name}: {i.message}" for i in result.items if i.message and i.outcome != "skipped"]
        verdict = "dry run, nothing written" if result.dry_run else ("released" if result.passed else "FAILED")
        return (lines + [""] + problems + [f"{len(result.items)} chart(s) to {config.repo}: {verdict}"]
                + ([f"committed {result.committed[:12]}"] if result.committed else [])
                + ([f"tagged {', '.join(result.tags)}"] if result.tags else []))

    _emit(result.to_dict(), table)
    if not result.passed:
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``chartgen`` console script."""
    global _settings
    _settings = Settings()
    try:
        code = cli.main(args=argv, prog_name="chartgen", standalone_mode=False)
    except ChartgenError as exc:
        _fail(exc.message, type(exc).__name__, exc.exit_code)
    except click.ClickException as exc:
        if _settings.output == "json":
            click.echo(json.dumps({"error": {"type": "UsageError", "message": exc.format_message()}}))
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, kind: str, code: int) -> None:
    if _settings.output == "json":
        click.echo(json.dumps({"error": {"type": kind, "message": message}}))
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)
