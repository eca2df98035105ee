# spikekit — every target is idempotent: re-running on an installed tree takes seconds.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools/bin
TOXIPROXY_VERSION := v2.12.0
ACTIONLINT_VERSION := v1.7.12
STAMP := $(VENV)/.installed

.PHONY: install demo demo-compare test lint format bench bench-tools toxiproxy browser haproxy actionlint helm clean help

help:
	@echo "make demo    - install, then run the built-in spike demo on the embedded stack"
	@echo "make demo-compare - provider-meltdown with the defences off, then on, compared"
	@echo "make test    - install, then lint and run the whole test suite"
	@echo "make lint    - ruff, mypy --strict, import contracts, actionlint (examples/ci), helm lint (deploy/)"
	@echo "make install - virtualenv, package with test extras, Toxiproxy, Chromium, HAProxy"
	@echo "make bench   - benchmarks under bench/"

install: $(STAMP) toxiproxy browser haproxy

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# The real Toxiproxy server, built from source with Go when it is missing.
# Without Go and without a toxiproxy-server on PATH we say how to get it and go on:
# network faults are then unavailable, everything else works.
toxiproxy:
	@if [ -x $(TOOLS)/toxiproxy-server ] || command -v toxiproxy-server >/dev/null 2>&1; then \
		:; \
	elif command -v go >/dev/null 2>&1; then \
		echo "building toxiproxy-server $(TOXIPROXY_VERSION) with go install"; \
		mkdir -p $(TOOLS) .tools/go-build && \
		GOBIN=$(CURDIR)/.tools/go-build go install \
			-ldflags "-X github.com/Shopify/toxiproxy/v2.Version=$(TOXIPROXY_VERSION:v%=%)" \
			github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION) && \
		mv .tools/go-build/server $(TOOLS)/toxiproxy-server; \
	else \
		echo "toxiproxy-server not found and Go is not installed: network faults are unavailable."; \
		echo "  get it: install Go and re-run 'make install', or put toxiproxy-server on PATH"; \
		echo "  (https://github.com/Shopify/toxiproxy/releases)"; \
	fi

# actionlint checks the CI workflow we ship (examples/ci/) the way GitHub would read it.
# Built with Go once into .tools/bin; lint fails without it rather than skip the check.
actionlint: $(TOOLS)/actionlint

$(TOOLS)/actionlint:
	@command -v go >/dev/null 2>&1 || { echo "actionlint needs Go to build (install Go, then re-run make)"; exit 1; }
	@echo "building actionlint $(ACTIONLINT_VERSION) with go install"
	@mkdir -p $(TOOLS) .tools/go-build
	GOBIN=$(CURDIR)/.tools/go-build go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	@mv .tools/go-build/actionlint $(TOOLS)/actionlint

# helm lints and renders the chart under deploy/helm/ (docs/kubernetes.md); it needs no
# cluster. Built with Go once into .tools/bin, as actionlint is.
HELM_VERSION := v3.22.0
helm: $(TOOLS)/helm

$(TOOLS)/helm:
	@command -v go >/dev/null 2>&1 || { echo "helm needs Go to build (install Go, then re-run make)"; exit 1; }
	@echo "building helm $(HELM_VERSION) with go install"
	@mkdir -p $(TOOLS) .tools/go-build
	GOBIN=$(CURDIR)/.tools/go-build go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	@mv .tools/go-build/helm $(TOOLS)/helm

# A real Chromium for the report's browser test, from Debian's packages when it is missing.
# Without apt-get we say how to get it and go on: that test is then skipped (CI sets
# SPIKEKIT_REQUIRE_BROWSER=1 so that it fails instead).
browser:
	@if command -v chromium >/dev/null 2>&1; then \
		:; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		echo "installing chromium (Debian package) for the report's browser test"; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium || \
		{ $$SUDO apt-get update -qq && \
		  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } || \
		echo "  could not install chromium: the report's browser test will be skipped"; \
	else \
		echo "chromium not found and apt-get is unavailable: the report's browser test will be skipped."; \
		echo "  get it: install Chromium from your OS packages so that 'chromium' is on PATH"; \
	fi

# HAProxy, the load balancer in front of the gateway replicas (docs/scaling-out.md), from
# Debian's packages when it is missing. Without apt-get we say how to get it and go on: a
# stack with one gateway needs none, gateway replicas then fail to start with that hint.
haproxy:
	@if command -v haproxy >/dev/null 2>&1; then \
		:; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		echo "installing haproxy (Debian package) for gateway replicas"; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy || \
		{ $$SUDO apt-get update -qq && \
		  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy; } || \
		echo "  could not install haproxy: gateway replicas will be unavailable"; \
	else \
		echo "haproxy not found and apt-get is unavailable: gateway replicas will be unavailable."; \
		echo "  get it: install HAProxy (2.6 or later) from your OS packages so that 'haproxy' is on PATH"; \
	fi

demo: install
	$(BIN)/spikekit demo

# The same spike with the platform's defences off, then on, and the comparison:
# cascading failure and no recovery vs contained failure and measured recovery.
DEMO_COMPARE := provider-meltdown --scale 0.002 --duration-scale 0.25 --out runs/compare
demo-compare: install
	rm -rf runs/compare
	-$(BIN)/spikekit run $(DEMO_COMPARE) --profile fragile
	-$(BIN)/spikekit run $(DEMO_COMPARE) --profile resilient
	-$(BIN)/spikekit compare $$(ls -d runs/compare/*/ | head -1) $$(ls -d runs/compare/*/ | tail -1) --out runs/compare/compare.html
	@echo "comparison: runs/compare/compare.html (A = fragile, B = resilient)"

test: install lint
	$(BIN)/python -m pytest -q

lint: $(STAMP) actionlint helm
	$(BIN)/ruff check spikekit tests bench
	$(BIN)/ruff format --check spikekit tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(TOOLS)/actionlint examples/ci/*.yml
	$(TOOLS)/helm lint deploy/helm/spikekit

format: $(STAMP)
	$(BIN)/ruff format spikekit tests bench
	$(BIN)/ruff check --fix spikekit tests bench

# Peers of the load generator for bench/: wrk (Debian) and bombardier (Go, MIT). k6 is not
# used: its licence (AGPL) is on this workplace's do-not-use list. Each only when missing.
BOMBARDIER_VERSION := v1.2.6
bench-tools:
	@command -v wrk >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y wrk || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
	@test -x $(TOOLS)/bombardier || { mkdir -p $(TOOLS) && \
		GOBIN=$(CURDIR)/$(TOOLS) go install github.com/codesenberg/bombardier@$(BOMBARDIER_VERSION); }

bench: install bench-tools
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .tools .spikekit .mypy_cache .ruff_cache .pytest_cache
