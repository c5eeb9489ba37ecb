#!/usr/bin/env bash
# Install what the tests need, then run the static checks and the whole test suite.
# torch is pinned to the CPU wheel (a plain `torch` would pull a multi-GB CUDA build);
# the browser tests drive Debian's chromium through Playwright, never a downloaded browser.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet torch==2.13.0
python -m pip install --quiet -e ".[test,docs]"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null
  fi
fi
lstm-sym regenerate --check
python -m lstm_sym experiment long-context --check
scripts/check
python scripts/mutation_check.py
python benchmarks/bench_kernels.py --quick
# Two worker processes (pytest-xdist); the tests that read the built site share one worker.
# Hypothesis draws fixed examples (profile "ci", tests/conftest.py): no run fails at random.
python -m pytest -q -n 2 --dist loadgroup --hypothesis-profile=ci "$@"
