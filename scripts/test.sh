#!/usr/bin/env bash
# Set up and run the whole test suite (unit, ETL against ../shared/data, loopback HTTP, real-browser end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q "$@"
