# CityOps: `make run` starts the demo, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install lint format migrate seed worker beat bench clean

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## The demo: SQLite under var/, periodic work inside the web process, http://127.0.0.1:$(PORT)
run: seed
	$(PY) manage.py serve --port $(PORT)

## The whole suite: SQLite by default, PostgreSQL when DATABASE_URL points at one.
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Production-style periodic work (needs CELERY_BROKER_URL).
worker: install
	$(VENV)/bin/celery -A cityops worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A cityops beat --loglevel=INFO

clean:
	rm -rf var/cityops.sqlite3* var/media
