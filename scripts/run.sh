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
.venv/bin/dsm refresh "${OFFLINE_ARGS[@]}"
# Served as in production (Procfile): gunicorn, no debug.
exec .venv/bin/gunicorn dashboard.app:server --workers 2 --threads 4 --bind "127.0.0.1:$PORT"
