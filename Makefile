# Two commands on a fresh machine: `make run` and `make test`. Needs only Python 3.11+, pip and make; `make test`
# also installs what the browser tests need, with apt-get (as root, or through sudo) and npm.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
export CRM_DATABASE_URL ?= sqlite:///./crm.db
# Browser tests (tests/browser) drive Debian's Chromium, since nothing here may download a browser build,
# and inject axe-core, installed from npm at the version tests/browser/package-lock.json pins.
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
BROWSER_TESTS := tests/browser
AXE_STAMP := $(BROWSER_TESTS)/node_modules/.installed-stamp
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600

.PHONY: install browser-test-deps run test lint format messages bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Only when missing: apt-get runs once on a fresh machine and never again after.
$(CHROMIUM) $(CHROMEDRIVER) &:
	$(APT_GET) update
	$(APT_GET) install -y chromium chromium-driver

$(AXE_STAMP): $(BROWSER_TESTS)/package.json $(BROWSER_TESTS)/package-lock.json
	command -v npm >/dev/null || { $(APT_GET) update && $(APT_GET) install -y npm; }
	npm ci --prefix $(BROWSER_TESTS) --no-audit --no-fund --loglevel=error
	touch $(AXE_STAMP)

browser-test-deps: $(CHROMIUM) $(CHROMEDRIVER) $(AXE_STAMP)

run: install
	CRM_DEMO=$${CRM_DEMO:-1} $(BIN)/crm db upgrade
	CRM_DEMO=$${CRM_DEMO:-1} $(BIN)/crm seed demo
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	CRM_DEMO=$${CRM_DEMO:-1} $(BIN)/crm serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

# loadgroup keeps the browser tests (one xdist group) on one worker, with one server and one Chromium.
test: install browser-test-deps
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

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
	rm -rf $(VENV) crm.db crm.db-wal crm.db-shm .pytest_cache tests/artifacts $(BROWSER_TESTS)/node_modules

# Benchmarks (bench/README.md): SQLite always, PostgreSQL too with CRM_BENCH_POSTGRES_URL set.
bench: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)
