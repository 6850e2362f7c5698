# The employer e-services portal. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
# Parallel test processes; 'auto' uses every core.
TEST_WORKERS ?= auto
CHROMIUM ?= /usr/bin/chromium
XMLSEC1 ?= /usr/bin/xmlsec1

.PHONY: help
help: ## List the targets, one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x "$$(command -v $(PYTHON))" || { echo "$(PYTHON) is needed (Python 3.11)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed (Node.js 20 or newer)."; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: install
install: $(VENV)/.installed node_modules/.installed messages ## Install Python and npm dependencies into .venv and node_modules

.PHONY: messages
messages: $(VENV)/.installed ## Compile the translations (.po to .mo)
	@$(BIN)/pybabel compile --domain django --directory src/portal/locale --use-fuzzy --statistics 2>&1 | grep -v '^$$' || true
	@test -f src/portal/locale/en/LC_MESSAGES/django.mo

.PHONY: makemessages
makemessages: $(VENV)/.installed ## Extract new texts to translate into the .po files
	cd src/portal && ../../$(BIN)/portal makemessages --locale en --no-obsolete --no-location --ignore 'static/*'

.PHONY: migrate
migrate: install ## Create or update the database (SQLite under var/ unless DATABASE_URL is set)
	@mkdir -p var
	$(BIN)/portal migrate --noinput

.PHONY: demo-data
demo-data: migrate ## Load the fictional demo data (idempotent)
	$(BIN)/portal load_demo_data

.PHONY: run
run: demo-data xmlsec ## Serve the portal on http://$(HOST):$(PORT)/ with the task worker, the audit sequencer and the local e-ID services
	@trap 'kill $$(jobs -p) 2>/dev/null; wait' EXIT INT TERM; \
	export PORTAL_LOG_FORMAT=$${PORTAL_LOG_FORMAT:-console}; \
	export PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://$(HOST):$(PORT)}; \
	rm -rf var/prometheus && mkdir -p var/prometheus; \
	export PROMETHEUS_MULTIPROC_DIR="$(CURDIR)/var/prometheus"; \
	$(BIN)/portal db_worker --no-startup-delay & \
	$(BIN)/portal audit seal --follow & \
	$(BIN)/portal bankid-simulator & \
	$(BIN)/portal freja-simulator & \
	$(BIN)/portal oidc-provider & \
	$(BIN)/portal saml-idp & \
	echo; echo "  Portalen körs på http://$(HOST):$(PORT)/  (avsluta med Ctrl+C)"; \
	echo "  Logga in med BankID-simulatorn: välj \"BankID på den här enheten\" och godkänn i testappen."; \
	echo "  Freja eID+, Sweden Connect och eIDAS går till lokala motsvarigheter på portarna 8445-8448."; echo; \
	$(BIN)/gunicorn portal.config.wsgi \
		--bind $(HOST):$(PORT) --workers 2 --threads 4 --reuse-port & \
	wait -n

.PHONY: browser
browser: xmlsec ## Install Debian's Chromium for the browser tests (and xmlsec1), if missing
	@test -x $(CHROMIUM) || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	}
	@test -x $(CHROMIUM) || { echo "Chromium is missing at $(CHROMIUM) and could not be installed."; exit 1; }

.PHONY: xmlsec
xmlsec: ## Install Debian's xmlsec1 (SAML signatures and encryption), if missing
	@test -x $(XMLSEC1) || { \
		echo "Installing Debian's xmlsec1 for SAML..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq xmlsec1 >/dev/null; \
	}
	@test -x $(XMLSEC1) || { echo "xmlsec1 is missing at $(XMLSEC1) and could not be installed."; exit 1; }

.PHONY: lint
lint: $(VENV)/.installed ## ruff lint and format check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

.PHONY: typecheck
typecheck: $(VENV)/.installed ## mypy with django-stubs on src/
	$(BIN)/mypy

.PHONY: fmt
fmt: $(VENV)/.installed ## Format the code and apply ruff's safe fixes
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

.PHONY: pytest
pytest: install browser ## Only the test suite (pytest), in parallel
	PORTAL_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

.PHONY: test
test: lint typecheck pytest ## Every check and the whole test suite (DATABASE_URL selects the database)

# The PostgreSQL server of the audit log's and the load benchmarks when DATABASE_URL is not
# PostgreSQL (only used to create and drop their throwaway databases); the bench says it skipped
# them when none answers. Sizes: BENCH_EMPLOYERS, BENCH_USERS, BENCH_SECONDS, ... (docs/performance.md).
BENCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: bench
bench: install ## The benchmarks (audit log and load on PostgreSQL); writes bench/results.json and prints tables
	BENCH_POSTGRES_URL='$(BENCH_POSTGRES_URL)' $(BIN)/python bench/run.py

.PHONY: bench-smoke
bench-smoke: install ## The same benchmarks at tiny sizes (under a minute): checks the harness, to var/bench-smoke/
	BENCH_POSTGRES_URL='$(BENCH_POSTGRES_URL)' $(BIN)/python bench/run.py --smoke

.PHONY: bench-pages
bench-pages: install ## CPU per page of the mixed workload, in-process on PostgreSQL (bench/pages.py)
	DATABASE_URL='$(BENCH_POSTGRES_URL)' $(BIN)/python bench/pages.py var/bench-pages.json

.PHONY: constraints
constraints: ## Re-pin constraints.txt after changing pyproject.toml's dependencies
	rm -rf .venv-pin && $(PYTHON) -m venv .venv-pin
	.venv-pin/bin/python -m pip install --quiet --upgrade pip
	.venv-pin/bin/python -m pip install --quiet -e '.[dev]'
	.venv-pin/bin/python -m pip freeze --exclude-editable --all | grep -v '^pip==' > constraints.txt
	rm -rf .venv-pin

.PHONY: clean
clean: ## Remove the virtual environment, node_modules and var/ (the SQLite database and mail)
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache
