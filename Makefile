# make run   - set up everything and serve the portal on http://127.0.0.1:8000 (make run PORT=8011
#              for another port) and the sandbox bank on http://127.0.0.1:8100, with celery beat
#              running the scheduled jobs in-process (SQLite, no other servers needed)
# make test  - set up everything and run the whole suite on PostgreSQL and Redis

PYTHON ?= $(shell command -v python3.11 || command -v python3)
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin

AXE := node_modules/axe-core/axe.min.js

.PHONY: run test install messages services lint test-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# axe-core for the accessibility tests (tests/browser/axe.py), pinned in package-lock.json.
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test-tools: $(AXE)

messages: install
	$(BIN)/python manage.py compilemessages --ignore=$(VENV) -v 0

run: messages
	PORT=$(PORT) bin/dev-run

services:
	bin/ensure-services

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run -v 0

test: messages services lint test-tools
	$(BIN)/pytest -n 2 --dist loadfile
