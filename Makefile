# The two commands: `make run` sets everything up and runs it; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Exact versions of every dependency, so a new release of a linter cannot change `make test`.
CONSTRAINTS := constraints.txt
LOCK_VENV := .lock-venv

.PHONY: run test bench bench-quick install install-test lock check-python

run: install .env
	$(BIN)/mp-mailer run

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

.env:
	sed "s/^SECRET_KEY=$$/SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')/" \
		config.example.env > .env
	@echo "Wrote .env with a new SECRET_KEY. Edit it to change any setting."
