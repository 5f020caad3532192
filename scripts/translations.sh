#!/usr/bin/env bash
# After editing a translation (dashboard/translations/<lang>/LC_MESSAGES/messages.po or etl/translations/<lang>.toml)
# or adding strings to the code: extract the code's messages, merge them into every .po, compile, check coverage.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
mkdir -p build
"$PYBABEL" --quiet extract -F babel.cfg -k N_ --no-location --sort-output -o build/messages.pot .
# Messages the code no longer uses stay in the .po as obsolete (#~) and come back with their translation when the
# code uses them again (add_translations.py --revive); none is lost by a branch that does not use it yet.
"$PYBABEL" --quiet update -i build/messages.pot -d dashboard/translations -N -w 116 --ignore-pot-creation-date
.venv/bin/python scripts/add_translations.py --revive
.venv/bin/python -m dashboard.i18n
.venv/bin/python -m pytest -q tests/dashboard/test_i18n_coverage.py
