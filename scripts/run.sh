#!/usr/bin/env bash
# Set up, refresh the data (live Eurostat by default; --offline DIR for recorded responses), and serve the dashboard.
# Usage: scripts/run.sh [--offline DIR] [--port N]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OFFLINE_ARGS=(); PORT="${PORT:-8050}"
while [ $# -gt 0 ]; do
  case "$1" in
    --offline) OFFLINE_ARGS=(--offline "$2"); shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[ -n "${DSM_OFFLINE_DIR:-}" ] && [ ${#OFFLINE_ARGS[@]} -eq 0 ] && OFFLINE_ARGS=(--offline "$DSM_OFFLINE_DIR")
if ! .venv/bin/dsm refresh "${OFFLINE_ARGS[@]}"; then
  # A failed refresh leaves the previous database intact: serve it if there is one.
  DB="${DSM_DATA_DIR:-data}/dsm.duckdb"
  [ -f "$DB" ] || { echo "refresh failed and there is no previous database to serve." \
    "If the live Eurostat API cannot be reached: check the network, set DSM_EUROSTAT_URL to a mirror," \
    "or serve recorded responses: bash scripts/run.sh --offline ../shared/data" >&2; exit 1; }
  echo "refresh failed; serving the previous database $DB" >&2
fi
# Served as in production (Procfile): gunicorn with dashboard/gunicorn_conf.py, no debug.
exec .venv/bin/dsm serve --host 127.0.0.1 --port "$PORT"
