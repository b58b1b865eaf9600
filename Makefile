# The two commands: `make run` sets everything up and runs it; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Exact versions of every dependency, so a new release of a linter cannot change `make test`.
CONSTRAINTS := constraints.txt
LOCK_VENV := .lock-venv

.PHONY: run test install install-test lock check-python mutation

run: install .env
	$(BIN)/mp-mailer run

test: install-test
	$(BIN)/ruff check mp_mailer tests bench tools
	$(BIN)/ruff format --check mp_mailer tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "mp_mailer needs Python 3.11 or newer: make PYTHON=python3.12 ..."; exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[test,dev]"

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
