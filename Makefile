# hyperpunch: one command installs what the tests need and runs them (make test).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.deps-stamp
STAMP_JS := interop/node_modules/.deps-stamp
ONLY ?=
REPEAT ?=
LINT_PATHS := src tests bench $(wildcard examples)

.PHONY: deps system-deps test lint typecheck unit unit-uvloop run bench vectors clean

deps: system-deps $(STAMP_PY) $(STAMP_JS)

# Debian packages the NAT lab tests need (tests/netlab; root). Installs only what is missing.
SYSTEM_APT := iproute2 iptables conntrack
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

$(STAMP_JS): interop/package.json interop/package-lock.json
	command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are required (the JS reference)"; exit 1; }
	cd interop && npm ci --no-audit --no-fund --loglevel=error
	touch $@

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
	$(PY) -m hyperpunch demo

bench: deps
	$(PY) -m bench $(if $(ONLY),--only '$(ONLY)',) $(if $(REPEAT),--repeat $(REPEAT),)

# Regenerate the reference vectors from the pinned JS modules (the suite checks for drift).
vectors: deps
	node interop/gen-vectors.js > tests/vectors/reference.json

clean:
	rm -rf $(VENV) interop/node_modules .mypy_cache .pytest_cache .ruff_cache
