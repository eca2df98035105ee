# spikekit — every target is idempotent: re-running on an installed tree takes seconds.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools/bin
TOXIPROXY_VERSION := v2.12.0
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format bench toxiproxy clean help

help:
	@echo "make demo    - install, then run the built-in spike demo on the embedded stack"
	@echo "make test    - install, then lint and run the whole test suite"
	@echo "make lint    - ruff (lint + format check) and mypy --strict on spikekit/"
	@echo "make install - virtualenv, package with test extras, Toxiproxy"
	@echo "make bench   - benchmarks under bench/"

install: $(STAMP) toxiproxy

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

demo: install
	$(BIN)/spikekit demo

test: install lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check spikekit tests bench
	$(BIN)/ruff format --check spikekit tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format spikekit tests bench
	$(BIN)/ruff check --fix spikekit tests bench

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .tools .spikekit .mypy_cache .ruff_cache .pytest_cache
