# Common commands. `make run` and `make test` are the README's two set-up commands: each creates
# the virtualenv and installs what it needs first, so they work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The browser tests drive Debian's Chromium; `make install` (and so `make test`) installs it.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-fast lint format typecheck check-migrations schema check install seed clean bench-ingest bench-plugins n8n-node node-packages

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --progress-bar off -r requirements-dev.txt
	touch $(STAMP)

$(CHROMIUM):
	@echo "Installing Debian's chromium package for the browser tests (tests/browser)..."
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

install: $(STAMP) $(CHROMIUM)

# HOST and PORT reach the settings too: unless SITE_URL is set, links, the API reference and the CSP
# name the address the server listens on.
run: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python manage.py seed_demo
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python manage.py runserver $(HOST):$(PORT)

seed: $(STAMP)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python manage.py seed_demo

test: $(STAMP) $(CHROMIUM) node-packages
	$(BIN)/python -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

# The edit-and-rerun loop: everything but the `slow` tests (browser, Node.js packages, subprocesses).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy .

check-migrations: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

schema: $(STAMP)
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

check: lint typecheck check-migrations schema test

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest/run.py $(BENCH_ARGS)

# Plugin calls through the sandbox (fork server, one confined child per call) beside a bare call.
bench-plugins: $(STAMP)
	$(BIN)/python bench/plugins/run.py $(BENCH_ARGS)

# The n8n community node package: `npm run setup` (npm ci, then its Node 24 binary) whenever
# package.json or the lockfile changed (npm rewrites node_modules/.package-lock.json on every
# install), then build, lint and run its tests against a running server (`make run` elsewhere).
# Needs SKYBOT_INBOX_API_KEY; see the package README.
N8N_NODE := integrations/n8n_nodes_skybot
SKYBOT_INBOX_URL ?= http://$(HOST):$(PORT)

$(N8N_NODE)/node_modules/.package-lock.json: $(N8N_NODE)/package.json $(N8N_NODE)/package-lock.json
	cd $(N8N_NODE) && npm run setup
	touch $@

ZAPIER_APP := integrations/zapier_app

$(ZAPIER_APP)/node_modules/.package-lock.json: $(ZAPIER_APP)/package.json $(ZAPIER_APP)/package-lock.json
	cd $(ZAPIER_APP) && npm ci --no-audit --no-fund
	touch $@

# The integration packages' dependencies, installed up front so the tests that run their suites
# against the live platform (tests/packages) do not install inside a test.
node-packages: $(N8N_NODE)/node_modules/.package-lock.json $(ZAPIER_APP)/node_modules/.package-lock.json

n8n-node: $(N8N_NODE)/node_modules/.package-lock.json
	@test -n "$$SKYBOT_INBOX_API_KEY" || { echo "Set SKYBOT_INBOX_API_KEY to an API key of $(SKYBOT_INBOX_URL) (scopes read, write, admin): see $(N8N_NODE)/README.md"; exit 2; }
	cd $(N8N_NODE) && npm run build && npm run lint && SKYBOT_INBOX_URL=$(SKYBOT_INBOX_URL) npm test

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache $(N8N_NODE)/node_modules $(N8N_NODE)/dist $(ZAPIER_APP)/node_modules

.PHONY: bench-analytics
bench-analytics: $(STAMP)
	$(BIN)/python bench/analytics/run.py $(BENCH_ARGS)

.PHONY: bench-webhook-forgery
bench-webhook-forgery: $(STAMP)
	$(BIN)/python bench/webhook_forgery/run.py $(BENCH_ARGS)

.PHONY: bench-marketplace
bench-marketplace: $(STAMP)
	$(BIN)/python bench/marketplace/run.py $(BENCH_ARGS)

# The API and the web pages at a big tenant (manage.py seed_scale) beside a bare Django no-op.
.PHONY: bench-api
bench-api: $(STAMP)
	$(BIN)/python bench/api/run.py $(BENCH_ARGS)
