# The front door: `make run` serves Trellis, `make test` is everything CI checks.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests default to the local PostgreSQL and Redis services (override to point elsewhere).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/trellis
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run serve worker test test-python test-sqlite api-types check-api-types test-openapi test-frontend test-e2e lint format bench install install-dev frontend migrate bootstrap clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/.vite/manifest.json: frontend/node_modules/.installed $(shell find frontend/src frontend/index.html frontend/vite.config.ts -type f 2>/dev/null)
	cd frontend && npm run build

frontend: frontend/dist/.vite/manifest.json

migrate: install
	$(PY) manage.py migrate --noinput

bootstrap: migrate
	TRELLIS_PUBLIC_URL=$${TRELLIS_PUBLIC_URL:-http://$(HOST):$(PORT)} $(PY) manage.py bootstrap

# Default mode: SQLite, in-memory channel layer, in-process executor, one process.
# Without OPENAI_API_KEY, agent nodes answer from the deterministic local test model so the
# templates run out of the box; set OPENAI_API_KEY (or TRELLIS_LOCAL_TEST_MODEL=false) for a real LLM.
run: install frontend bootstrap
	@if [ -z "$$OPENAI_API_KEY" ] && [ -z "$$TRELLIS_LOCAL_TEST_MODEL" ]; then \
	  echo "No OPENAI_API_KEY: agent nodes use the local test model (canned, deterministic replies)."; fi
	TRELLIS_LOCAL_TEST_MODEL=$${TRELLIS_LOCAL_TEST_MODEL:-$$( [ -z "$$OPENAI_API_KEY" ] && echo true || echo false )} \
	TRELLIS_PUBLIC_URL=$${TRELLIS_PUBLIC_URL:-http://$(HOST):$(PORT)} \
	$(PY) -m uvicorn trellis.asgi:application --host $(HOST) --port $(PORT) --workers 1 --log-level info

serve:
	$(PY) -m uvicorn trellis.asgi:application --host $(HOST) --port $(PORT) --workers 1 --log-level info

# Queue mode: needs REDIS_URL (and usually DATABASE_URL) in the environment.
worker: install
	$(VENV)/bin/celery -A trellis worker --loglevel=info

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-python: install-dev frontend
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -m "not e2e and not openapi" -q

# Default mode's database: the engine, webhooks, budgets and retrieval again on a SQLite file (WAL, IMMEDIATE
# transactions), as `make run` serves them; everything else runs on PostgreSQL above.
SQLITE_TESTS := runs/tests/test_engine.py runs/tests/test_durability.py runs/tests/test_approvals.py \
	runs/tests/test_many_in_flight.py runs/tests/test_admission.py runs/tests/test_group_commit.py \
	runs/triggers/tests/test_webhooks.py runs/triggers/tests/test_ingest.py \
	budgets/tests/test_reservations.py budgets/tests/test_prices.py knowledge/tests/test_retrieval.py \
	runs/tests/test_listeners.py knowledge/tests/test_file_search_node.py
test-sqlite: install-dev
	DATABASE_URL=sqlite:///$$(mktemp -u /tmp/trellis-test-XXXXXX).sqlite3 REDIS_URL=$(TEST_REDIS_URL) \
	  $(PY) -m pytest -q -p no:randomly -m "not e2e and not openapi" $(SQLITE_TESTS)

# Schemathesis against /api/schema/ on a live server: no server error, every answer as documented (about 2 min).
test-openapi: install-dev
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -m openapi -q -p no:randomly

# The front end's API types come from the OpenAPI document (drf-spectacular → openapi-typescript).
# `make api-types` regenerates frontend/src/api/schema.d.ts; `make check-api-types` (part of make test) fails when
# the committed file no longer matches the API.
API_TYPES := frontend/src/api/schema.d.ts
define generate_api_types
	$(PY) manage.py spectacular --format openapi-json --file $(1).json 2>/dev/null
	cd frontend && npx openapi-typescript $(abspath $(1)).json -o $(abspath $(1)) --alphabetize >/dev/null
endef
api-types: install-dev frontend/node_modules/.installed
	$(call generate_api_types,$(API_TYPES))
	rm -f $(API_TYPES).json
check-api-types: install-dev frontend/node_modules/.installed
	@mkdir -p var
	$(call generate_api_types,var/api-types-check.d.ts)
	@diff -q $(API_TYPES) var/api-types-check.d.ts >/dev/null || { echo "$(API_TYPES) is stale: run make api-types and commit it"; exit 1; }
	rm -f var/api-types-check.d.ts var/api-types-check.d.ts.json

test-frontend: frontend/node_modules/.installed
	cd frontend && npm run typecheck && npm test

test-e2e: install-dev frontend
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -m e2e -q -p no:randomly

test: lint check-api-types test-python test-sqlite test-openapi test-frontend test-e2e

bench: install-dev frontend
	$(PY) bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist var
