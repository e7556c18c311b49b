# Two commands on a fresh machine: `make run` and `make test`. Needs only Python 3.11+, pip and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
export CRM_DATABASE_URL ?= sqlite:///./crm.db

.PHONY: install run test lint format messages bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	CRM_DEMO=$${CRM_DEMO:-1} $(BIN)/crm db upgrade
	CRM_DEMO=$${CRM_DEMO:-1} $(BIN)/crm seed demo
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	CRM_DEMO=$${CRM_DEMO:-1} $(BIN)/crm serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: install
	$(BIN)/python -m pytest -q -n 2 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check crm tests bench migrations
	$(BIN)/ruff format --check crm tests bench migrations

format: install
	$(BIN)/ruff check --fix crm tests bench migrations
	$(BIN)/ruff format crm tests bench migrations

messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext -k ngettext:1,2 --no-location -o crm/locale/messages.pot .
	$(BIN)/pybabel update -i crm/locale/messages.pot -d crm/locale -D messages --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) crm.db crm.db-wal crm.db-shm .pytest_cache

# Benchmarks (bench/README.md): SQLite always, PostgreSQL too with CRM_BENCH_POSTGRES_URL set.
bench: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)
