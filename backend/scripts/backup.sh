#!/usr/bin/env bash
# make backup: the database (pg_dump custom format, with the private cluster's own binaries)
# and the media files (processed photos and raw uploads waiting for processing) into
# .var/backups/<UTC timestamp>/, with a manifest of checksums. Prints the backup's folder.
#
#   backup.sh [--db DATABASE_URL_OR_NAME] [--out FOLDER]
#
# The database: --db (a postgres:// or postgis:// URL, or a database name on the checkout's
# cluster), else DATABASE_URL, else the checkout's `city311`. Media: MEDIA_ROOT and
# PRIVATE_UPLOAD_ROOT (defaults .var/media and .var/media-private). Folder: --out, else
# $CITY311_BACKUP_DIR/<timestamp> (default .var/backups). See docs/reliability.md, "Backups".
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=backend/scripts/backup-common.sh
source backend/scripts/backup-common.sh

DB=${DATABASE_URL:-city311}
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --db) DB=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: backup.sh [--db URL_OR_NAME] [--out FOLDER]" >&2; exit 2 ;;
  esac
done
URL=$(db_url "$DB")
if [ -z "$OUT" ]; then
  OUT="${CITY311_BACKUP_DIR:-$VAR/backups}/$(date -u +%Y%m%dT%H%M%SZ)"
fi
[ -e "$OUT/db.dump" ] && { echo "$OUT already holds a backup" >&2; exit 1; }
mkdir -p "$OUT"

step "dumping database ${URL##*/} (pg_dump -Fc)"
"$PGBIN/pg_dump" --format=custom --compress=6 --no-owner --file="$OUT/db.dump" "$URL"
step "archiving media ($MEDIA, $PRIVATE)"
mkdir -p "$MEDIA" "$PRIVATE"
tar -C "$MEDIA" -czf "$OUT/media.tar.gz" .
tar -C "$PRIVATE" -czf "$OUT/media-private.tar.gz" .
{
  echo "created_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "database=${URL##*/}"
  echo "media_files=$(find "$MEDIA" -type f | wc -l)"
  echo "private_files=$(find "$PRIVATE" -type f | wc -l)"
  (cd "$OUT" && sha256sum db.dump media.tar.gz media-private.tar.gz)
} > "$OUT/MANIFEST"
echo "$OUT"
