#!/usr/bin/env bash
# make restore: a backup of backup.sh back into a database and the media folders.
#
#   restore.sh BACKUP_FOLDER [--db DATABASE_URL_OR_NAME] [--force]
#
# The database: --db, else DATABASE_URL, else the checkout's `city311`. It is created when
# missing; one that holds tables is replaced only with --force (dropped and created again).
# Media go back into MEDIA_ROOT and PRIVATE_UPLOAD_ROOT (defaults .var/media and
# .var/media-private), next to what is there. Checksums are verified first.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=backend/scripts/backup-common.sh
source backend/scripts/backup-common.sh

[ $# -ge 1 ] || { echo "usage: restore.sh BACKUP_FOLDER [--db URL_OR_NAME] [--force]" >&2; exit 2; }
BACKUP=$1; shift
DB=${DATABASE_URL:-city311}
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --db) DB=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    *) echo "usage: restore.sh BACKUP_FOLDER [--db URL_OR_NAME] [--force]" >&2; exit 2 ;;
  esac
done
[ -f "$BACKUP/db.dump" ] || { echo "$BACKUP holds no db.dump" >&2; exit 1; }
(cd "$BACKUP" && grep -E '^[0-9a-f]{64}  ' MANIFEST | sha256sum --check --quiet) \
  || { echo "checksums of $BACKUP do not match its MANIFEST" >&2; exit 1; }

URL=$(db_url "$DB")
NAME=${URL##*/}
NAME=${NAME%%\?*}
ADMIN_URL="${URL%/*}/postgres"
psql_admin() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$ADMIN_URL" "$@"; }
exists=$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$NAME'")
if [ "$exists" = 1 ]; then
  tables=$("$PGBIN/psql" -X -tAc \
    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'" \
    -d "$URL")
  if [ "$tables" != 0 ]; then
    [ "$FORCE" = 1 ] || { echo "database $NAME holds $tables tables; add --force to replace it" >&2; exit 1; }
    step "dropping database $NAME"
    psql_admin -c "DROP DATABASE \"$NAME\" WITH (FORCE)"
    exists=""
  fi
fi
if [ "$exists" != 1 ]; then
  step "creating database $NAME"
  psql_admin -c "CREATE DATABASE \"$NAME\""
fi
step "restoring $BACKUP/db.dump into $NAME (pg_restore)"
"$PGBIN/pg_restore" --no-owner --exit-on-error --single-transaction -d "$URL" "$BACKUP/db.dump"

step "restoring media into $MEDIA and $PRIVATE"
mkdir -p "$MEDIA" "$PRIVATE"
tar -C "$MEDIA" -xzf "$BACKUP/media.tar.gz"
tar -C "$PRIVATE" -xzf "$BACKUP/media-private.tar.gz"
echo "$NAME"
