#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then lint, types,
# architecture contracts and every test. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh dev
# The browser tests drive Debian's Chromium; install it when missing and we can (root with apt-get).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing chromium (browser tests)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
    >/tmp/kalshi-trader-chromium-install.log 2>&1 \
    || echo "    chromium install failed (see /tmp/kalshi-trader-chromium-install.log); browser tests will be skipped"
fi
echo "==> ruff";          .venv/bin/ruff check .
echo "==> mypy";          .venv/bin/mypy
echo "==> import-linter"; .venv/bin/lint-imports --no-cache
echo "==> pytest";        .venv/bin/pytest "$@"
