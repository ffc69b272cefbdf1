# Sourced by backup.sh and restore.sh (not run on its own): the checkout's root, the private
# PostgreSQL cluster's port and binaries, the media folders, and a libpq URL for a database.
# Expects the caller to have cd'ed to the checkout's root.
ROOT=$(pwd)
PG_PORT=${CITY311_PG_PORT:-54329}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
VAR=${CITY311_VAR_DIR:-$ROOT/.var}
MEDIA=${MEDIA_ROOT:-$VAR/media}
PRIVATE=${PRIVATE_UPLOAD_ROOT:-${MEDIA%/}-private}
step() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

db_url() {  # a libpq URL from a URL (postgis:// accepted) or a bare database name
  local value=$1
  case "$value" in
    postgis://*) echo "postgresql://${value#postgis://}" ;;
    postgres://*|postgresql://*) echo "$value" ;;
    *) echo "postgresql://city311:city311@127.0.0.1:$PG_PORT/$value" ;;
  esac
}
