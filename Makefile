# make demo : the main job on its embedded default (scaffold, lint, package; see scripts/demo.sh)
# make test : install everything the tests need (virtualenv, pinned helm 3 + helm 4, Debian
#             packages of the test servers, a local Kubernetes control plane), run all tests
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pytest-xdist workers; helm-heavy tests are subprocess-bound, so use the cores.
JOBS ?= auto

.PHONY: help venv tools system e2e-tools test test-fast test-e2e test-unit lint charts demo bench clean

help:
	@echo "make demo   - scaffold a Go service + chart, test and lint it, package and publish it (into ./demo)"
	@echo "make test   - install what the tests need, run ruff and every test (= test-fast + test-e2e)"
	@echo "make test-fast - every test but the end-to-end installs"
	@echo "make test-e2e - build a local Kubernetes control plane, install the charts on it (helm 3 and 4)"
	@echo "make charts - regenerate charts/ from tests/golden/*.answers.yaml"
	@echo "make bench  - run the benchmarks (ratios against helm on this machine)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	# An editable install gets no bytecode, and PYTHONDONTWRITEBYTECODE may be set: compile it
	# once, as a regular install would, so each chartgen run does not recompile its modules.
	$(BIN)/python -m compileall -q chartgen
	touch $@

venv: $(VENV)/.installed

tools: venv
	$(BIN)/python scripts/install_helm.py

# Debian packages of the real servers the integration tests start (docker-registry, htpasswd).
system:
	bash scripts/install_system_packages.sh

lint: venv
	$(BIN)/ruff check chartgen tests scripts benchmarks

# Every test: the fast suite, then the end-to-end installs on a local Kubernetes control plane.
test: test-fast test-e2e

test-fast: venv tools system lint
	$(BIN)/pytest -n $(JOBS) -m "not e2e"

# A local control plane: Debian's etcd-server, kube-apiserver and kube-controller-manager built once
# from the Go module proxy into ~/.cache/chartgen/kube/ (several minutes the first time).
e2e-tools: venv tools
	bash scripts/install_system_packages.sh
	$(BIN)/python scripts/install_kube.py

test-e2e: e2e-tools
	@echo "etcd: $$(etcd --version | head -1)"
	$(BIN)/pytest -n $(JOBS) -m e2e tests/e2e -W ignore::urllib3.exceptions.InsecureRequestWarning

test-unit: venv
	$(BIN)/pytest -n $(JOBS) -m "not helm"

charts: venv
	$(BIN)/python scripts/regenerate_charts.py

demo: venv tools
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

bench: venv tools
	$(BIN)/python benchmarks/create.py
	$(BIN)/python benchmarks/new.py
	$(BIN)/python benchmarks/lint.py
	$(BIN)/python benchmarks/index_merge.py
	$(BIN)/python benchmarks/release.py

clean:
	rm -rf $(VENV) .tools demo build dist *.egg-info .pytest_cache .ruff_cache
