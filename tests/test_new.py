"""`chartgen new` and the cookiecutter template: the generated Go service builds, tests, serves,
shuts down gracefully, and agrees with its chart."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml

from chartgen.cli import cli
from chartgen.scaffold import create_chart, create_service
from tests.conftest import ROOT, tree
from tests.servers import free_port

ICON, MAINTAINERS = "https://example.com/icon.svg", ["Jane Doe <jane@example.com>", "Platform team"]
GO_ENV = {**os.environ, "GOFLAGS": "-mod=readonly", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}


def go(project: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["go", *args], cwd=project, env=GO_ENV, capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert proc.returncode == 0, f"go {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def module_proxy_reachable(project: Path) -> str | None:
    """None when `go mod download` works, else why not (the gin variant needs the module proxy)."""
    proc = subprocess.run(["go", "mod", "download"], cwd=project, env=GO_ENV, capture_output=True, text=True,
                          timeout=300, check=False)
    return None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["go mod download failed"])[-1]


@pytest.fixture(scope="module", params=["stdlib", "gin"])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    framework = request.param
    out = tmp_path_factory.mktemp(framework)
    result = create_service(f"svc-{framework}", out, framework=framework, port=8181, ci="github,gitlab,jenkins",
                            module=f"example.com/acme/svc-{framework}", app_version="1.2.3", icon=ICON,
                            maintainers=MAINTAINERS)
    project = Path(result.path)
    if framework == "gin":
        reason = module_proxy_reachable(project)
        if reason:
            print(f"skipping the gin variant: the Go module proxy is unreachable ({reason})")
            pytest.skip(f"Go module proxy unreachable: {reason}")
    return project


def test_gofmt_vet_test_build(service: Path) -> None:
    gofmt = subprocess.run(["gofmt", "-l", "."], cwd=service, capture_output=True, text=True, check=True)
    assert gofmt.stdout == "", f"not gofmt'd: {gofmt.stdout}"
    go(service, "mod", "verify")
    go(service, "vet", "./...")
    go(service, "test", "./...")
    name = service.name
    go(service, "build", "-trimpath", "-ldflags", "-s -w -X main.version=1.2.3 -X main.commit=abc123",
       "-o", f"bin/{name}", f"./cmd/{name}")
    assert (service / "bin" / name).is_file()


def test_binary_serves_and_shuts_down_gracefully(service: Path) -> None:
    name = service.name
    binary = service / "bin" / f"{name}-run"
    go(service, "build", "-ldflags", "-X main.version=1.2.3 -X main.commit=abc123", "-o", str(binary),
       f"./cmd/{name}")
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "SHUTDOWN_DELAY": "1s", "SHUTDOWN_TIMEOUT": "6s",
           "LOG_LEVEL": "debug"}
    proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # bounded wait for the listener
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
        hello = requests.get(f"{base}/api/v1/hello", params={"name": "Gopher"}, timeout=5).json()
        assert hello == {"message": "Hello, Gopher!", "version": "1.2.3"}
        metrics = requests.get(f"{base}/metrics", timeout=5).text
        assert re.search(r'^http_requests_total\{code="200",method="GET",route="/api/v1/hello"\} 1$', metrics, re.M)
        assert 'build_info{commit="abc123",version="1.2.3"} 1' in metrics

        in_flight: dict[str, object] = {}

        def slow_request() -> None:
            try:
                response = requests.get(f"{base}/api/v1/hello", params={"wait": "2500ms"}, timeout=20)
                in_flight["status"] = response.status_code
            except requests.RequestException as exc:
                in_flight["error"] = repr(exc)

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.3)  # let the slow request reach the handler
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)  # inside SHUTDOWN_DELAY: still serving, but unready
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 503
        thread.join(timeout=20)
        assert in_flight == {"status": 200}, "the request in flight at SIGTERM did not complete"
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = proc.stdout.read() if proc.stdout else ""
    assert '"msg":"shutting down"' in log and '"msg":"stopped"' in log


def test_chart_agrees_with_the_service(service: Path, tmp_path: Path) -> None:
    name = service.name
    chart = service / "charts" / name
    values = yaml.safe_load((chart / "values.yaml").read_text())
    assert values["containerPort"] == 8181
    assert values["image"]["repository"] == f"registry.example.com/{name}"
    assert values["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert values["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "DefaultPort            = 8181" in (service / "internal" / "config" / "config.go").read_text()
    assert "EXPOSE 8181" in (service / "Dockerfile").read_text()
    # One source of truth: the chart is exactly what `chart create` makes from the same answers.
    reference = Path(create_chart(name, tmp_path, image_repository=f"registry.example.com/{name}", port=8181,
                                  app_version="1.2.3", description=f"The {name} HTTP service", icon=ICON,
                                  maintainers=MAINTAINERS).path)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    assert meta["icon"] == ICON
    assert meta["maintainers"] == [{"name": "Jane Doe", "email": "jane@example.com"}, {"name": "Platform team"}]
    assert tree(chart) == tree(reference)
    for rel in tree(chart):
        if (chart / rel).is_file():
            assert filecmp.cmp(chart / rel, reference / rel, shallow=False), rel


@pytest.mark.helm
def test_generated_chart_lints_clean(service: Path, helm: str, run_cli) -> None:
    result = run_cli("-o", "json", "lint", str(service / "charts" / service.name), "--strict", "--helm", helm)
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["summary"]["warnings"] == 0
    assert json.loads(result.stdout)["summary"]["infos"] == 0  # icon and maintainers given


def test_ci_files(service: Path) -> None:
    github = yaml.safe_load((service / ".github" / "workflows" / "ci.yml").read_text())
    assert set(github["jobs"]) == {"test", "chart", "image", "release"}
    steps = " ".join(str(s.get("run", "")) for job in github["jobs"].values() for s in job["steps"])
    for needle in ("go vet ./...", "go test", "chartgen lint --strict", "chartgen release"):
        assert needle in steps
    gitlab = yaml.safe_load((service / ".gitlab-ci.yml").read_text())
    assert gitlab["stages"] == ["build", "test", "deploy"]
    assert {"build", "test", "chart-lint", "image", "release"} <= set(gitlab)
    jenkins = (service / "Jenkinsfile").read_text()
    assert re.findall(r"stage\('(\w+)'\)", jenkins) == ["Build", "Test", "Lint", "Docker", "Release"]
    assert "go test -v" in jenkins and "coverprofile" in jenkins
    # Only commands that exist: every chartgen subcommand and make target they use.
    commands = set(cli.commands)
    makefile = (service / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    for text in ((service / ".github" / "workflows" / "ci.yml").read_text(), (service / ".gitlab-ci.yml").read_text(),
                 jenkins, makefile):
        for used in re.findall(r"chartgen (?:-\S+ )*([a-z]+)", text):
            assert used in commands, f"chartgen {used} does not exist"
        for used in re.findall(r"make ([a-z][a-z-]*)", text):
            assert used in targets, f"make {used} is not a target"


def test_dockerfile_follows_the_practices(service: Path) -> None:
    dockerfile = (service / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") == 2 and "AS build" in dockerfile
    assert "CGO_ENABLED=0" in dockerfile and "-trimpath" in dockerfile and '-ldflags "-s -w' in dockerfile
    assert dockerfile.index("COPY go.mod go.sum*") < dockerfile.index("COPY . .")
    assert "FROM scratch" in dockerfile and "USER 65532:65532" in dockerfile
    ignored = (service / ".dockerignore").read_text().split()
    assert {".git", "bin/", "*.env"} <= set(ignored)


def test_plain_cookiecutter_gives_the_same_tree(tmp_path: Path) -> None:
    answers = {"service_name": "twin", "service_slug": "twin", "module_path": "example.com/twin", "port": "9000",
               "framework": "stdlib", "ci": "github,jenkins", "image_repository": "registry.example.com/twin",
               "app_version": "0.1.0", "description": "The twin HTTP service"}
    ours = Path(create_service("twin", tmp_path / "ours", module="example.com/twin", port=9000,
                               ci="github,jenkins").path)
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    subprocess.run([str(cookiecutter), str(ROOT / "cookiecutter-go-service"), "--no-input", "-o",
                    str(tmp_path / "plain"), *(f"{k}={v}" for k, v in answers.items())], check=True,
                   capture_output=True, text=True, timeout=120)
    plain = tmp_path / "plain" / "twin"
    assert tree(plain) == tree(ours)
    for rel in tree(ours):
        if (ours / rel).is_file():
            assert (ours / rel).read_bytes() == (plain / rel).read_bytes(), rel


@pytest.mark.parametrize(("args", "message"), [
    (["My_Service"], "DNS-1123"),
    (["svc", "--module", "Bad Module"], "Go module path"),
    (["svc", "--module", "/abs/path"], "Go module path"),
    (["svc", "--ci", "travis"], "unknown CI system"),
    (["svc", "--image-repository", "UPPER/case"], "image repository"),
    (["svc", "--app-version", "has space"], "image tag"),
    (["svc", "--icon", "icon.svg"], "not an http(s) URL"),
    (["svc", "--maintainer", "Jane <jane@>"], "not an email address"),
])
def test_bad_answers_write_nothing(tmp_path: Path, run_cli, args: list[str], message: str) -> None:
    result = run_cli("new", *args, "-d", str(tmp_path / "out"), "--no-input")
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_existing_service_needs_force(tmp_path: Path, run_cli) -> None:
    assert run_cli("new", "svc", "-d", str(tmp_path), "--no-input").exit_code == 0
    (tmp_path / "svc" / "local-notes.txt").write_text("mine")
    again = run_cli("new", "svc", "-d", str(tmp_path), "--no-input")
    assert again.exit_code == 1 and "--force" in again.stderr
    assert (tmp_path / "svc" / "local-notes.txt").exists()
    forced = run_cli("-o", "json", "new", "svc", "-d", str(tmp_path), "--no-input", "--force", "--framework", "gin")
    assert forced.exit_code == 0 and json.loads(forced.stdout)["replaced"] is True
    assert not (tmp_path / "svc" / "local-notes.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["svc"]


def test_template_hook_refuses_bad_answers_through_plain_cookiecutter(tmp_path: Path) -> None:
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    proc = subprocess.run([str(cookiecutter), str(ROOT / "cookiecutter-go-service"), "--no-input", "-o",
                           str(tmp_path), "service_name=Bad_Name", "service_slug=Bad_Name"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0 and "DNS-1123" in proc.stderr
    assert list(tmp_path.iterdir()) == []
    shutil.rmtree(tmp_path, ignore_errors=True)
