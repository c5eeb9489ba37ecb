#!/usr/bin/env bash
# Install the browser the site tests drive: Debian's Chromium at /usr/bin/chromium.
# Playwright (the Python package, from the `test` extra) only drives it through
# executable_path; it never downloads a browser of its own (no `playwright install`).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || true)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
/usr/bin/chromium --version
