#!/usr/bin/env bash
# Build the partial plotly.js bundles into dashboard/vendor/ (gitignored) from the pinned npm packages.
# The dashboard serves plotly-dsm.min.js instead of plotly's full 4.8 MB bundle when it is there.
set -euo pipefail
cd "$(dirname "$0")"
npm ls --depth=0 >/dev/null 2>&1 || npm ci --no-audit --no-fund --loglevel=error  # node_modules as locked
OUT=../../dashboard/vendor
mkdir -p "$OUT"
for name in plotly-dsm plotly-cartesian plotly-geo; do
  node_modules/.bin/esbuild "$name.js" --bundle --minify --format=iife --global-name=Plotly --target=es2016 \
    --define:global=window --define:define.amd=false --loader:.css=empty --log-level=warning \
    --outfile="$OUT/$name.min.js"
done
