#!/usr/bin/env bash
# The private PostgreSQL + PostGIS cluster and Redis of this checkout, under .var/, on loopback
# ports that are not the defaults. Usage: services.sh start|stop|status
# start prints "started" if it started something (so callers can stop only what they started).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VAR="$ROOT/.var"
PG_PORT=${CITY311_PG_PORT:-54329}
REDIS_PORT=${CITY311_REDIS_PORT:-63799}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGDATA="$VAR/pg"
RUNDIR="$VAR/run"
step() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

# PostgreSQL refuses to run as root; on a root shell the cluster belongs to the postgres account.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }
port_answers() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; }
# Ours only: the Redis whose pid file is in this checkout's .var/run (another checkout's or
# the system's Redis on the same port is never used or stopped).
redis_running() {
  [ -f "$RUNDIR/redis.pid" ] && kill -0 "$(cat "$RUNDIR/redis.pid")" 2>/dev/null && port_answers
}

start() {
  mkdir -p "$VAR" "$RUNDIR" "$VAR/redis" "$VAR/log"
  local started=0
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    step "creating the private PostgreSQL cluster in .var/pg (port $PG_PORT)"
    mkdir -p "$PGDATA"
    echo city311 > "$VAR/.pgpass-init"
    if [ "$(id -u)" = 0 ]; then chown -R postgres: "$PGDATA" "$RUNDIR" "$VAR/.pgpass-init"; fi
    as_pg "$PGBIN/initdb" -D "$PGDATA" -U city311 --pwfile="$VAR/.pgpass-init" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$VAR/.pgpass-init"
    cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$RUNDIR'
max_connections = 200
# The indexes of a city's requests (about 1.5 GB at 5 million) stay in PostgreSQL's own
# cache: an import into them ran 30 % faster than with 256 MB (bench/README.md).
shared_buffers = 2GB
fsync = on
logging_collector = off
CONF
  fi
  if ! pg_running; then
    if (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then
      echo "Port $PG_PORT is taken by a server that is not this checkout's PostgreSQL;" \
           "set CITY311_PG_PORT (and CITY311_REDIS_PORT) to free ports." >&2
      exit 1
    fi
    step "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$RUNDIR"; touch "$VAR/log/postgres.log"; chown postgres: "$VAR/log/postgres.log"; fi
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$VAR/log/postgres.log" -w -t 60 start >/dev/null
    started=1
  fi
  if ! as_pg "$PGBIN/psql" -h "$RUNDIR" -p "$PG_PORT" -U city311 -d postgres -tAc \
       "SELECT 1 FROM pg_database WHERE datname='city311'" | grep -q 1; then
    step "creating database city311 with PostGIS"
    as_pg "$PGBIN/createdb" -h "$RUNDIR" -p "$PG_PORT" -U city311 city311
  fi
  PGOPTIONS='-c client_min_messages=warning' as_pg "$PGBIN/psql" -q -h "$RUNDIR" -p "$PG_PORT" -U city311 -d city311 \
    -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  if ! redis_running; then
    if port_answers; then
      echo "Port $REDIS_PORT is taken by a Redis that is not this checkout's;" \
           "set CITY311_REDIS_PORT (and CITY311_PG_PORT) to free ports." >&2
      exit 1
    fi
    step "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$VAR/redis" \
      --daemonize yes --pidfile "$RUNDIR/redis.pid" --logfile "$VAR/log/redis.log" \
      --save 60 1 --appendonly yes --protected-mode yes >/dev/null
    for _ in $(seq 50); do redis_running && break; sleep 0.1; done
    redis_running || { echo "Redis did not start; see .var/log/redis.log" >&2; exit 1; }
    started=1
  fi
  [ "$started" = 1 ] && echo started || echo running
}

stop() {
  if redis_running; then
    step "stopping Redis"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
  fi
  if [ -f "$PGDATA/PG_VERSION" ] && pg_running; then
    step "stopping PostgreSQL"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  fi
}

status() {
  pg_running && echo "postgresql: running on $PG_PORT" || echo "postgresql: stopped"
  redis_running && echo "redis: running on $REDIS_PORT" || echo "redis: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
