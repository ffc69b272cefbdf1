#!/usr/bin/env bash
# Installs the system packages city311 needs, only those missing: PostgreSQL + PostGIS,
# Redis, GDAL/GEOS/PROJ (GeoDjango). Debian/Ubuntu (apt). Touches no running service.
set -euo pipefail
step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

need=()
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

[ -n "$(pg_bin)" ] || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
ldconfig -p | grep -q 'libgdal\.so' || need+=(gdal-bin)
ldconfig -p | grep -q 'libgeos_c\.so' || need+=(libgeos-c1v5)
ldconfig -p | grep -q 'libproj\.so' || need+=(proj-bin)
if [ "${WITH_CHROMIUM:-0}" = 1 ]; then
  command -v chromium >/dev/null || need+=(chromium)
  # npm installs axe-core for the browser tests' accessibility checks (tests/web/axe/).
  command -v npm >/dev/null || need+=(nodejs npm)
  # makemessages (xgettext, msgmerge) for the translation check (tests/web/test_translations.py).
  command -v msgmerge >/dev/null || need+=(gettext)
fi
if [ "${WITH_SCALEOUT:-0}" = 1 ]; then
  # The scale-out rehearsal (bench/scaleout.py, tests/faults/test_scaleout.py): HAProxy and
  # PgBouncer, started only by the rehearsal itself (policy-rc.d below keeps apt from starting
  # them as services).
  command -v haproxy >/dev/null || need+=(haproxy)
  command -v pgbouncer >/dev/null || need+=(pgbouncer)
fi
if [ "${WITH_WRK:-0}" = 1 ]; then
  command -v wrk >/dev/null || need+=(wrk)
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  step "installing system packages: $*"
  $SUDO apt-get update -qq || true
  # No package starts a system service of its own (haproxy, pgbouncer, postgresql,
  # redis-server): a policy-rc.d that refuses every start, for the install only, unless the
  # machine already has one.
  local policy=/usr/sbin/policy-rc.d added=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    added=1
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "$@" || { [ -z "$added" ] || $SUDO rm -f "$policy"; return 1; }
  [ -z "$added" ] || $SUDO rm -f "$policy"
}

if [ ${#need[@]} -gt 0 ]; then
  apt_install "${need[@]}"
fi

# PostGIS for whichever PostgreSQL major the machine has.
PGV=$(basename "$(dirname "$(pg_bin)")")
if [ ! -f "/usr/share/postgresql/$PGV/extension/postgis.control" ]; then
  apt_install "postgresql-$PGV-postgis-3"
fi
step "system packages present (PostgreSQL $PGV + PostGIS, Redis, GDAL/GEOS/PROJ)"
