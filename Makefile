# city311 — the two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := backend.settings

.PHONY: help run test setup system venv services services-stop status migrate catalog demo \
        lint typecheck pytest bench-intake bench-photos bench-open311 bench-workorders bench \
        clean-var

help:
	@echo "make run    install what is missing, start PostgreSQL+PostGIS, Redis, the ASGI server,"
	@echo "            a Celery worker and Celery beat (Ctrl-C stops all of it)"
	@echo "make test   the same set-up without demo data, then ruff, mypy and pytest"
	@echo "make bench  the benchmarks in bench/ (prints their figures)"

system:
	@bash backend/scripts/system-deps.sh

# The virtualenv is rebuilt when pyproject.toml changes.
venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	@bash backend/scripts/venv.sh
	@touch $@

services:
	@bash backend/scripts/services.sh start >/dev/null

services-stop:
	@bash backend/scripts/services.sh stop

status:
	@bash backend/scripts/services.sh status

migrate: venv services
	@printf '\033[1;34m==>\033[0m %s\n' "migrating the database"
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py catalog_load

setup: system venv services migrate

demo: setup
	@$(PY) manage.py demo_load

run: system venv
	@bash backend/scripts/run.sh

test: system venv
	@bash backend/scripts/test.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy .

pytest: venv
	$(VENV)/bin/pytest

bench-intake: setup
	@WITH_WRK=1 bash backend/scripts/system-deps.sh
	$(PY) bench/intake.py

bench-photos: venv
	$(PY) bench/photos.py

bench-open311: setup
	@WITH_WRK=1 bash backend/scripts/system-deps.sh
	$(PY) bench/open311.py

bench-workorders: setup
	$(PY) bench/workorders.py

bench: bench-photos bench-intake bench-open311 bench-workorders

# Removes the private database, Redis data and media of this checkout.
clean-var: services-stop
	rm -rf .var
