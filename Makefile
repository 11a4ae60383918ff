# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed

# Node 24 comes from PyPI into the venv and must win over an older system Node;
# Reflex then uses npm with the committed reflex.lock/package-lock.json.
export PATH := $(BIN):$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false

.PHONY: setup run test test-services test-postgres test-e2e lint chromium postgres bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/python -m chub_ui.manage migrate

run: $(STAMP)
	CHUB_DEMO=$${CHUB_DEMO:-1} $(BIN)/python -m chub_ui.manage setup
	CHUB_DEMO=$${CHUB_DEMO:-1} $(BIN)/reflex run

# Debian packages the tests start themselves: Chromium and a PostgreSQL server.
APT_INSTALL = SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq

chromium:
	@test -x /usr/bin/chromium || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(APT_INSTALL) chromium; }

postgres:
	@ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || { \
	  echo "Installing Debian's postgresql for the PostgreSQL tests"; \
	  $(APT_INSTALL) postgresql; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-services: $(STAMP)
	$(BIN)/pytest tests --ignore=tests/e2e -q

test-postgres: $(STAMP) postgres
	scripts/test-postgres.sh

test-e2e: $(STAMP) chromium
	$(BIN)/pytest tests/e2e -q -p no:asyncio -W ignore::pytest.PytestConfigWarning

test: setup chromium lint test-services test-postgres test-e2e

bench: $(STAMP)
	PYTHONPATH=. $(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) .web .data
