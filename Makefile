# The two commands: `make run` sets everything up and runs it; `make test` runs every check.
# `make demo` runs it offline, with the stand-in Members API.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Exact versions of every dependency, so a new release of a linter cannot change `make test`.
CONSTRAINTS := constraints.txt
LOCK_VENV := .lock-venv
# Installs happen only when what they install from changes; pip's output goes to a log, shown
# only if the install fails (an editable install prints pages of setuptools warnings).
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
INSTALL_LOG := $(VENV)/install.log
# The browser tests' axe-core, from the npm registry (tests/browser/package-lock.json).
AXE := tests/browser/node_modules/axe-core/axe.min.js
CHROMIUM := /usr/bin/chromium

.PHONY: run demo test bench bench-quick install install-test browser-deps screenshots lock check-python mutation

run: install .env
	$(BIN)/mp-mailer run

demo: install .env
	$(BIN)/python tools/demo.py

test: install-test
	$(BIN)/ruff check mp_mailer tests bench tools
	$(BIN)/ruff format --check mp_mailer tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

# The speed benchmarks (bench/README.md): a PostgreSQL server for their own databases, Redis for
# the rate limits, wrk as the load generator (installed from Debian's packages when missing).
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
BENCH_LETTERS ?= 1000000

bench: install-test
	@command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	$(BIN)/python bench/surge_bench.py --database-url $(BENCH_DATABASE_URL) --redis-url $(BENCH_REDIS_URL)
	$(BIN)/python bench/send_log_bench.py --database-url $(BENCH_DATABASE_URL) --letters $(BENCH_LETTERS) --runs 3

bench-quick: install-test
	@command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	$(BIN)/python bench/surge_bench.py --database-url $(BENCH_DATABASE_URL) --redis-url $(BENCH_REDIS_URL) --quick
	$(BIN)/python bench/send_log_bench.py --database-url $(BENCH_DATABASE_URL) --letters 100000 --runs 3

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "mp_mailer needs Python 3.11 or newer: make PYTHON=python3.12 ..."; exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	@echo "Installing mp_mailer into $(VENV) (again only when pyproject.toml or $(CONSTRAINTS) change)"
	@$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e . > $(INSTALL_LOG) 2>&1 || \
		{ cat $(INSTALL_LOG); exit 1; }
	@touch $@

install-test: $(TEST_STAMP) browser-deps

$(TEST_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	@echo "Installing mp_mailer and its test tools into $(VENV)"
	@$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[test,dev]" > $(INSTALL_LOG) 2>&1 || \
		{ cat $(INSTALL_LOG); exit 1; }
	@touch $@ $(RUN_STAMP)

# The browser tests drive Debian's Chromium (never a downloaded browser) and inject axe-core.
browser-deps: $(AXE)
	@test -x $(CHROMIUM) || { \
		echo "Installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	@touch $@

# Retake the README's screenshots (docs/screenshots) with the browser tests.
screenshots: install-test
	BROWSER_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/browser -q

# Refresh constraints.txt: the newest releases pyproject.toml allows, resolved in a fresh venv.
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/pip install --quiet ".[test,dev]"
	( echo "# Exact versions for make run, make test and CI (pip install -c constraints.txt ...)."; \
	  echo "# pyproject.toml keeps the floors. Refresh with: make lock"; \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude mp-mailer --exclude pip ) > $(CONSTRAINTS)
	rm -rf $(LOCK_VENV)

# Mutation testing of the delivery path (outbox, worker, SMTP client, letters), configured in
# pyproject.toml's [tool.mutmut]. On SQLite only, and long: not part of `make test` or CI.
# Narrow it with MUTANTS, e.g. make mutation MUTANTS='mp_mailer.services.outbox.*'
MUTANTS ?=
mutation: install-test
	env -u TEST_DATABASE_URL -u TEST_REDIS_URL $(BIN)/mutmut run $(MUTANTS)
	$(BIN)/mutmut results

.env:
	sed "s/^SECRET_KEY=$$/SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')/" \
		config.example.env > .env
	@echo "Wrote .env with a new SECRET_KEY. Edit it to change any setting."
