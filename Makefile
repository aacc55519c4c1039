# hyperpunch: one command installs what the tests need and runs them (make test).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.deps-stamp
STAMP_JS := interop/node_modules/.deps-stamp
ONLY ?=
REPEAT ?=
LINT_PATHS := src tests bench $(wildcard examples)

.PHONY: deps system-deps browser-bundle todo-bundle test lint typecheck unit unit-uvloop run bench bench-report vectors clean

deps: system-deps $(STAMP_PY) $(STAMP_JS) browser-bundle todo-bundle

# Debian packages the NAT lab tests (tests/netlab; root) and the browser tests (tests/relay and
# tests/todo_browser: headless Chromium; the todo app also in firefox-esr, driven over WebDriver
# BiDi, no geckodriver) need. Installs only what is missing.
SYSTEM_APT := iproute2 iptables conntrack chromium chromium-driver firefox-esr
system-deps:
	@missing=""; for pkg in $(SYSTEM_APT); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(STAMP_PY): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(STAMP_JS): interop/package.json interop/package-lock.json interop/sdk/package.json interop/sdk/package-lock.json
	command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are required (the JS reference)"; exit 1; }
	cd interop && npm ci --no-audit --no-fund --loglevel=error
	cd interop/sdk && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The dht-relay client page for the browser test: the pinned @hyperswarm/dht-relay bundled by
# esbuild from interop/node_modules (no CDN). tests/relay builds its own copy the same way.
BUNDLE := interop/browser/dist/relay-bundle.js
browser-bundle: $(BUNDLE)
$(BUNDLE): $(STAMP_JS) interop/browser/relay-page.js interop/browser/sodium-shim.js
	mkdir -p $(dir $@)
	cd interop && node_modules/.bin/esbuild browser/relay-page.js --bundle --platform=browser \
	  --format=iife --alias:sodium-native=./browser/sodium-shim.js --outfile=browser/dist/relay-bundle.js \
	  --log-level=warning
	cp interop/browser/index.html interop/browser/dist/index.html

# The todo app's page (issue 17): interop/browser/todo/build.sh bundles app.js + client.js with
# esbuild from interop/node_modules (browser stand-ins for the native modules in runtime/) into
# interop/browser/dist/todo/ (todo.js, index.html, style.css), which `hyperpunch todo serve` serves.
TODO_BUNDLE := interop/browser/dist/todo/todo.js
todo-bundle: $(TODO_BUNDLE)
$(TODO_BUNDLE): $(STAMP_JS) $(wildcard interop/browser/todo/*.js interop/browser/todo/*.html interop/browser/todo/*.css interop/browser/todo/runtime/*) interop/browser/todo/build.sh
	cd interop && sh browser/todo/build.sh

lint: deps
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

typecheck: deps
	$(VENV)/bin/mypy

unit: deps
	$(PY) -m pytest -q

# the same suite on uvloop (hyperpunch's optional faster loop: pip install -e '.[fast]')
unit-uvloop: deps
	$(PY) -m pip install --quiet 'uvloop>=0.19'
	HYPERPUNCH_LOOP=uvloop $(PY) -m pytest -q

test: deps lint typecheck unit

run: deps
	$(PY) -m hyperpunch todo serve --local

bench: deps
	$(PY) -m bench $(if $(ONLY),--only '$(ONLY)',) $(if $(REPEAT),--repeat $(REPEAT),) $(if $(PROFILE),--profile $(PROFILE),)

# The scale curves (bench/bench_scale.py; ~40 s with REPEAT=1, ~2 min at the default 3) as JSON and PNG:
# build/bench/scale.jsonl and build/bench/scale.png. FULL=1 adds the 10 000-core and 10**6-block
# points (many minutes).
STAMP_BENCH := $(VENV)/.bench-deps-stamp
BENCH_OUT := build/bench
FULL ?=

$(STAMP_BENCH): pyproject.toml $(STAMP_PY)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

bench-report: deps $(STAMP_BENCH)
	mkdir -p $(BENCH_OUT)
	HYPERPUNCH_BENCH_FULL=$(FULL) $(PY) -m bench --only scale_ $(if $(REPEAT),--repeat $(REPEAT),) | tee $(BENCH_OUT)/scale.jsonl
	$(PY) -m bench.report $(BENCH_OUT)/scale.jsonl -o $(BENCH_OUT)/scale.png

# Regenerate the reference vectors from the pinned JS modules (the suite checks for drift).
vectors: deps
	node interop/gen-vectors.js > tests/vectors/reference.json

clean:
	rm -rf $(VENV) interop/node_modules .mypy_cache .pytest_cache .ruff_cache
