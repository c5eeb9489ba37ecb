#!/usr/bin/env bash
# Regenerate every derivation from the specs, then build the site (or serve it: `scripts/site.sh serve`).
# The build verifies every kernel first and fails if a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# The verification page runs the torch oracle: torch is pinned to the CPU wheel as in test.sh.
python -m pip install --quiet torch==2.13.0
python -m pip install --quiet -e ".[docs]"
lstm-sym regenerate
if [ "${1:-build}" = "serve" ]; then
  exec mkdocs serve
fi
mkdocs build --strict
echo "site built in ./site — open site/index.html or run: scripts/site.sh serve"
