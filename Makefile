# The two commands: `make run` (set up and serve the demo) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEV_ENV := DEBUG=1

.DEFAULT_GOAL := help
.PHONY: help install run test test-postgres api-check lint format clean-db loadtest

help:
	@echo "make run            set up .venv, migrate, load demo data, serve on http://$(HOST):$(PORT)/"
	@echo "make test           run the whole test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make test-postgres  run the suite against the PostgreSQL on 127.0.0.1:5432"
	@echo "make api-check      serve a seeded portal and check the live API against its schema (schemathesis)"
	@echo "make loadtest       seed --size 1000 (kept under var/loadtest/), serve it with gunicorn, drive 50 req/s for 60 s and print p50/p95/p99"
	@echo "make lint           ruff lint and format check, and the layer contracts (lint-imports)"
	@echo "make format         apply ruff's fixes and formatting"
	@echo "make clean-db       delete the development database under var/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changed.
$(INSTALLED): $(BIN)/python requirements/base.txt requirements/prod.txt requirements/dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

install: $(INSTALLED)

run: $(INSTALLED)
	@mkdir -p var
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo --if-empty
	@echo "Serving the SLA Portal on http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@echo "A background worker delivers notifications, applies scheduled changes and syncs calendar feeds (log: var/worker.log)."
	@$(DEV_ENV) $(BIN)/python manage.py worker --no-reload >var/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# pytest-xdist: one worker per core (each with its own test database).
test: $(INSTALLED)
	$(BIN)/pytest -n auto

test-postgres: $(INSTALLED)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sla_portal} $(BIN)/pytest -n auto

api-check: $(INSTALLED)
	.ci/api-schema-check

# seed_demo --size $${LOADTEST_SIZE:-1000} into a SQLite file kept under var/loadtest/ (about ten minutes the
# first time; later runs reuse it) or DATABASE_URL, then gunicorn with cores + 1 workers.
loadtest: $(INSTALLED)
	$(BIN)/python tools/loadtest.py

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean-db:
	rm -f var/portal.sqlite3 var/portal.sqlite3-wal var/portal.sqlite3-shm
