# Rebound's tasks. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: help install system kafka-jars run test unit integration bench bench-quick faults faults-ci profile lint image-steps deploy-check crd-schemas format clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# The install compiles the per-event modules with mypyc (setup.py), so any change to the
# package's sources installs again; REBOUND_COMPILE=0 installs them as plain Python (and a
# change of that choice installs again too). PIP_CONSTRAINT holds the build's own
# requirements (setuptools, mypy) to the pins as well.
COMPILED = streams__mypyc.*.so $$(find streams -name '*.so')
BUILD_KIND := $(VENV)/.build-$(if $(filter 0,$(REBOUND_COMPILE)),plain,compiled)

$(BUILD_KIND):
	mkdir -p $(VENV)
	rm -f $(VENV)/.build-*
	touch $@

$(INSTALLED): pyproject.toml constraints.txt setup.py $(shell find streams -name '*.py') $(BUILD_KIND)
	$(PYTHON) -m venv $(VENV)
	rm -f $(COMPILED)
	PIP_CONSTRAINT=constraints.txt $(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(INSTALLED) system ## Create .venv with the pinned dependencies and the system programs

system: ## Install redis-server, Java, Maven and promtool from Debian's packages if missing
	@deploy/local/install-system-packages.sh

kafka-jars: install ## Fetch the Kafka broker's jars from Maven Central (once, into ~/.cache/rebound)
	@$(BIN)/python -m devtools --fetch-only

run: kafka-jars ## Start Kafka, Redis, the worker and demo traffic; Ctrl-C stops everything
	$(BIN)/python -m devtools

test: kafka-jars ## Run every test, integration tests against a real Kafka and Redis
	$(BIN)/pytest

unit: install ## Run the unit tests only (no service needed)
	$(BIN)/pytest tests/unit

integration: kafka-jars ## Run the integration tests only
	$(BIN)/pytest tests/integration

bench: kafka-jars ## Benchmarks against the local broker: table + JSON line (about 20 min)
	$(BIN)/python -m benchmarks

bench-quick: kafka-jars ## The benchmarks at small sizes (a few minutes; CI runs it)
	$(BIN)/python -m benchmarks --quick

faults: kafka-jars ## The fault suite: every fault, a run each, against the oracle (about 15 min)
	$(BIN)/python -m faults

faults-ci: kafka-jars ## The fault suite's CI subset: worker SIGKILLs and a Redis outage (about 5 min)
	$(BIN)/python -m faults --ci

profile: kafka-jars ## Sample the worker with py-spy under load; writes var/profile.txt
	@mkdir -p var
	$(BIN)/python -m benchmarks.profile --output var/profile.txt

lint: install ## ruff, mypy, and hadolint on the image definition
	$(BIN)/ruff check streams tests benchmarks devtools faults docs setup.py
	$(BIN)/ruff format --check streams tests benchmarks devtools faults docs setup.py
	$(BIN)/mypy
	$(BIN)/hadolint deploy/docker/Dockerfile

CACHE_DIR := $(or $(REBOUND_CACHE_DIR),$(HOME)/.cache/rebound)
HELM := $(CACHE_DIR)/bin/helm
HELM_VERSION := v4.3.2

$(HELM):
	GOBIN=$(CACHE_DIR)/bin go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)

deploy-check: install system $(HELM) ## Lint the image definition and the Helm chart, render and validate it
	$(BIN)/hadolint deploy/docker/Dockerfile
	$(HELM) lint --strict deploy/helm/rebound
	$(HELM) lint --strict deploy/helm/rebound -f deploy/helm/rebound/ci/full-values.yaml
	REBOUND_HELM=$(HELM) $(BIN)/pytest tests/deploy

crd-schemas: install ## Remake tests/deploy/crds from Strimzi's (Maven) and Prometheus Operator's (Go) CRDs
	$(BIN)/python -m devtools.crd_schemas

image-steps: ## Run the image's install steps (deploy/docker/install-rebound.sh) in a fresh virtualenv
	rm -rf var/image-venv
	deploy/docker/install-rebound.sh . var/image-venv
	var/image-venv/bin/rebound settings > /dev/null

format: install ## Format the code with ruff
	$(BIN)/ruff format streams tests benchmarks devtools docs setup.py
	$(BIN)/ruff check --fix streams tests benchmarks devtools docs setup.py

clean: ## Remove the virtualenv, caches and local data (not the Kafka jars cache)
	rm -rf $(VENV) var build .pytest_cache .mypy_cache .ruff_cache *.egg-info
	rm -f $(COMPILED)
