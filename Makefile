# spikekit — every target is idempotent: re-running on an installed tree takes seconds.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools/bin
TOXIPROXY_VERSION := v2.12.0
ACTIONLINT_VERSION := v1.7.12
STAMP := $(VENV)/.installed

.PHONY: install demo demo-compare test lint format bench bench-tools toxiproxy browser haproxy prometheus actionlint helm podman base-image image wheelhouse wheelhouse-deps clean help

help:
	@echo "make demo    - install, then run the built-in spike demo on the embedded stack"
	@echo "make demo-compare - provider-meltdown with the defences off, then on, compared"
	@echo "make test    - install, then lint and run the whole test suite"
	@echo "make lint    - ruff, mypy --strict, import contracts, actionlint (examples/ci), helm lint (deploy/)"
	@echo "make install - virtualenv, package with test extras, Toxiproxy, Chromium, HAProxy, Prometheus"
	@echo "make bench   - benchmarks under bench/"

install: $(STAMP) toxiproxy browser haproxy prometheus

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

# Prometheus, the server a platform of your own may be watched through (docs/telemetry.md;
# its tests start one on 127.0.0.1), from Debian's package. Not installed system-wide (that
# would start a service): the .deb is downloaded and unpacked into .tools/prometheus/ once.
PROMETHEUS := .tools/prometheus/usr/bin/prometheus
prometheus: $(PROMETHEUS)

$(PROMETHEUS):
	@command -v apt-get >/dev/null 2>&1 || { echo "prometheus: apt-get is unavailable; put Debian's prometheus 2.42 (or a release from prometheus.io) at $(PROMETHEUS)"; exit 1; }
	@echo "unpacking Debian's prometheus package into .tools/prometheus"
	@rm -rf .tools/prometheus-deb && mkdir -p .tools/prometheus-deb
	@cd .tools/prometheus-deb && { apt-get download -qq prometheus 2>/dev/null || \
		{ apt-get update -qq && apt-get download -qq prometheus; }; }
	@rm -rf .tools/prometheus && dpkg -x .tools/prometheus-deb/prometheus_*.deb .tools/prometheus
	@rm -rf .tools/prometheus-deb
	@test -x $(PROMETHEUS) && $(PROMETHEUS) --version 2>&1 | head -1

# Containers (docs/containers.md): podman, runc and debootstrap from Debian's packages when
# missing; a base image built from Debian's packages (no registry is needed), cached as a
# root-file-system tarball in .tools/images/ so that a second build takes seconds; the project
# image (deploy/container/Containerfile) from a wheelhouse built on the host. Podman reads
# deploy/podman/containers.conf through CONTAINERS_CONF (never /etc).
export CONTAINERS_CONF := $(CURDIR)/deploy/podman/containers.conf
IMAGES := .tools/images
BASE_IMAGE ?= localhost/spikekit-base:bookworm
BASE_PACKAGES := python3,python3-venv,ca-certificates,haproxy
BASE_TAR := $(IMAGES)/spikekit-base-bookworm.tar
BASE_STAMP := $(IMAGES)/spikekit-base-bookworm.stamp
IMAGE ?= localhost/spikekit:dev
CONTEXT := .tools/container-context
# Debian 12's Python is 3.11.2 and the host's may be newer: what the dependencies need only
# below 3.11.3 (redis: async-timeout) is added to the wheelhouse by name; so is numpy, which
# spikekit imports (load/histograms.py) but pyproject.toml reaches only through pandas.
IMAGE_PY_EXTRA := 'async-timeout>=4.0.3' 'numpy>=1.26'

podman:
	@missing=; for tool in podman runc debootstrap; do \
		command -v $$tool >/dev/null 2>&1 || [ -x /usr/sbin/$$tool ] || missing="$$missing $$tool"; done; \
	if [ -z "$$missing" ]; then \
		:; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		echo "installing$$missing (Debian packages) for the container tests"; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing || \
		{ $$SUDO apt-get update -qq && \
		  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; }; \
	else \
		echo "missing:$$missing and apt-get is unavailable: install podman, runc and debootstrap"; exit 1; \
	fi

# The rootfs tarball is rebuilt only when the package list changes (the stamp holds it).
base-image: podman
	@if [ "$$(cat $(BASE_STAMP) 2>/dev/null)" != "$(BASE_PACKAGES)" ] || [ ! -s $(BASE_TAR) ]; then \
		echo "building the base image's root file system with debootstrap (about 80 s)"; \
		rm -rf $(IMAGES)/rootfs && mkdir -p $(IMAGES) && \
		PATH="$$PATH:/usr/sbin:/sbin" debootstrap --variant=minbase --include=$(BASE_PACKAGES) \
			bookworm $(IMAGES)/rootfs http://deb.debian.org/debian >$(IMAGES)/debootstrap.log 2>&1 || \
			{ tail -20 $(IMAGES)/debootstrap.log; exit 1; }; \
		rm -rf $(IMAGES)/rootfs/var/cache/apt/archives/*.deb $(IMAGES)/rootfs/var/lib/apt/lists/*; \
		tar -C $(IMAGES)/rootfs -cf $(BASE_TAR).tmp . && mv $(BASE_TAR).tmp $(BASE_TAR) && \
		rm -rf $(IMAGES)/rootfs && echo "$(BASE_PACKAGES)" > $(BASE_STAMP) && \
		podman rmi -f $(BASE_IMAGE) >/dev/null 2>&1 || true; \
	fi
	@podman image exists $(BASE_IMAGE) || { echo "importing $(BASE_TAR) as $(BASE_IMAGE)"; \
		podman import --quiet $(BASE_TAR) $(BASE_IMAGE) >/dev/null; }

# The wheels of an image build that needs no index, in two parts with a layer each: deps/
# (what the containers run: pyproject.toml's dependencies without the report makers
# IMAGE_HOST_ONLY; collected again only when that list changes, so the image's layer of
# them stays cached) and spikekit/ (the project's wheel, without build isolation: seconds).
# `make -j2 image` collects them while debootstrap builds the base image.
IMAGE_HOST_ONLY := pandas matplotlib
DEPS_STAMP := $(CONTEXT)/deps.stamp
wheelhouse-deps: $(STAMP)
	@mkdir -p $(CONTEXT)/deps
	@$(BIN)/python deploy/container/requirements.py pyproject.toml $(IMAGE_HOST_ONLY) \
		> $(CONTEXT)/requirements.txt && printf '%s\n' $(IMAGE_PY_EXTRA) >> $(CONTEXT)/requirements.txt
	@if ! cmp -s $(CONTEXT)/requirements.txt $(DEPS_STAMP); then \
		echo "collecting the dependencies' wheels"; \
		rm -rf $(CONTEXT)/deps && mkdir -p $(CONTEXT)/deps && \
		$(BIN)/python -m pip wheel --quiet --wheel-dir $(CONTEXT)/deps \
			-r $(CONTEXT)/requirements.txt && \
		cp $(CONTEXT)/requirements.txt $(DEPS_STAMP); \
	fi

wheelhouse: wheelhouse-deps
	@rm -rf $(CONTEXT)/src $(CONTEXT)/spikekit && mkdir -p $(CONTEXT)/src $(CONTEXT)/spikekit $(CONTEXT)/bin
	@tar -c --exclude=__pycache__ pyproject.toml README.md spikekit | tar -x -C $(CONTEXT)/src
	@$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation \
		--wheel-dir $(CONTEXT)/spikekit $(CONTEXT)/src
	@rm -rf $(CONTEXT)/src
	@cp deploy/container/entrypoint.sh $(CONTEXT)/
	@if [ -x $(TOOLS)/toxiproxy-server ]; then cp $(TOOLS)/toxiproxy-server $(CONTEXT)/bin/; \
	else cp "$$(command -v toxiproxy-server)" $(CONTEXT)/bin/; fi

# The image is built again only when what goes into it changed: a hash of the Containerfile,
# the entrypoint, pyproject.toml, every file of spikekit/, the Toxiproxy binary and the base
# image, kept as the image's label io.spikekit.content (and in $(IMAGE_STAMP)).
IMAGE_STAMP := $(IMAGES)/spikekit-image.stamp
image: base-image toxiproxy wheelhouse-deps
	@toxiproxy=$(TOOLS)/toxiproxy-server; [ -x $$toxiproxy ] || toxiproxy=$$(command -v toxiproxy-server); \
	key=$$( { sha256sum deploy/container/Containerfile deploy/container/entrypoint.sh \
			deploy/container/requirements.py pyproject.toml $$toxiproxy; \
		find spikekit -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z | \
			xargs -0 sha256sum; \
		echo $(IMAGE_HOST_ONLY) $(IMAGE_PY_EXTRA); podman image inspect --format '{{.Id}}' $(BASE_IMAGE); \
		} | sha256sum | cut -c1-32); \
	have=$$(podman image inspect --format '{{index .Labels "io.spikekit.content"}}' $(IMAGE) 2>/dev/null); \
	if [ "$$have" = "$$key" ]; then echo "$(IMAGE) is up to date ($$key)"; else \
		old=$$(podman image inspect --format '{{.Id}}' $(IMAGE) 2>/dev/null); \
		$(MAKE) --no-print-directory wheelhouse && \
		podman build --quiet --network none --build-arg BASE_IMAGE=$(BASE_IMAGE) \
			--label io.spikekit.content=$$key \
			-f deploy/container/Containerfile -t $(IMAGE) $(CONTEXT) >/dev/null && \
		mkdir -p $(IMAGES) && echo $$key > $(IMAGE_STAMP) && echo "built $(IMAGE) ($$key)" && \
		if [ -n "$$old" ]; then podman rmi $$old >/dev/null 2>&1 || true; fi; \
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
	$(BIN)/python -m pytest -q --durations=30

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
