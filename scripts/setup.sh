#!/usr/bin/env bash
# Set up everything the project needs on a fresh Debian machine: Chromium (browser tests, image export), a venv, pinned packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# Only what is missing: a machine whose Node.js comes from NodeSource already has npm, and Debian's npm conflicts with it.
APT_PACKAGES=""
[ -x /usr/bin/chromium ] || APT_PACKAGES="chromium"
command -v npm >/dev/null || APT_PACKAGES="$APT_PACKAGES nodejs npm"
if [ -n "$APT_PACKAGES" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PACKAGES >/dev/null
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Pinned versions first (requirements.lock), then the project itself without re-resolving.
.venv/bin/python -m pip install -q -r requirements.lock
.venv/bin/python -m pip install -q --no-deps -e .
# Compile the translation catalogues (.po in the repository -> .mo beside them, not committed).
.venv/bin/python -m dashboard.i18n >/dev/null
# npm packages as locked in scripts/js/package-lock.json: the partial plotly.js bundles the app serves
# (dashboard/vendor/) and axe-core for the browser tests.
bash scripts/js/build.sh
