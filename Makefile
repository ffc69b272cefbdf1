# city311 — the two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := backend.settings

.PHONY: help run test setup system venv services services-stop status migrate catalog demo \
        lint typecheck pytest bench-intake bench-photos bench-open311 bench-workorders bench-load bench-scaleout bench-chat bench-analytics bench-apps bench-stack bench \
        backup restore clean-var

help:
	@echo "make run    install what is missing, start PostgreSQL+PostGIS, Redis, the ASGI server,"
	@echo "            a Celery worker and Celery beat (Ctrl-C stops all of it)"
	@echo "make test   the same set-up without demo data, then ruff, mypy, lint-imports and pytest"
	@echo "make bench  the benchmarks in bench/ (prints their figures)"
	@echo "make backup / make restore BACKUP=.var/backups/<timestamp>  database and media"

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
	$(VENV)/bin/lint-imports

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

# The busy-day mixed load for 10 minutes against a stack of its own (docs/reliability.md).
bench-load: system venv
	$(PY) bench/load.py

# The rehearsed scale-out: seven hosts on network namespaces (root), faults under the busy-day
# mix, throughput with one and two web hosts (bench/scaleout.py; docs/deploy.md).
bench-scaleout: venv
	@WITH_SCALEOUT=1 bash backend/scripts/system-deps.sh
	flock /tmp/bench.lock $(PY) bench/scaleout.py

# The assistant's NLU parse time, a chat turn through /api/v1/chat/ with the real Rasa, and
# the training time of both NLU pipelines (bench/chat.py).
bench-chat: setup
	$(PY) bench/chat.py

# Analytics over 5 million generated requests: scorecard, department page and hotspots
# against the raw computation, import rate, count freshness (bench/analytics.py; ROWS=...).
bench-analytics: setup
	$(PY) bench/analytics.py $(if $(ROWS),--rows $(ROWS))

# The crew app on a weak phone link (400 kbit/s, 400 ms): first and repeat load, its weight,
# twenty offline actions delivered after reconnecting (bench/apps.py).
bench-apps: setup
	$(PY) bench/apps.py

# Server-stack options against their alternative in one run on the intake bench: uvicorn or
# granian, DRF's JSON or orjson, prepared statements, the pool's health check, a trimmed
# middleware chain (bench/stack_options.py; COMPARE=server ... for one).
bench-stack: setup
	@WITH_WRK=1 bash backend/scripts/system-deps.sh
	$(PY) bench/stack_options.py $(foreach c,$(COMPARE),--compare $(c))

bench: bench-photos bench-intake bench-open311 bench-workorders

# The database and media into .var/backups/<timestamp>/ (DB=name or URL: another database).
backup: services
	@bash backend/scripts/backup.sh $(if $(DB),--db $(DB))

# make restore BACKUP=.var/backups/<timestamp> [DB=name] [FORCE=1]: back into the database
# (created when missing; one with tables only with FORCE=1) and the media folders.
restore: services
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=.var/backups/<timestamp> [DB=name] [FORCE=1]"; exit 2; }
	@bash backend/scripts/restore.sh $(BACKUP) $(if $(DB),--db $(DB)) $(if $(FORCE),--force)

# Removes the private database, Redis data and media of this checkout.
clean-var: services-stop
	rm -rf .var
