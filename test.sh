#!/usr/bin/env bash
# The test suite, from a fresh clone: installs what it needs, then lint, types, architecture
# contracts and tests. Extra arguments go to pytest.
#
#   ./test.sh          everything (what .ci/run runs): every test, in parallel worker processes
#   ./test.sh --fast   the developer loop: lint, format, types, contracts and the unit tests
#
# Tests run in KALSHI_TRADER_TEST_WORKERS pytest-xdist workers (default: one per CPU, at least 2:
# most tests wait on sockets and child processes rather than compute). Tests that share something
# outside their temp dir carry an xdist_group mark and run in one worker. `-n 0` (as an extra
# argument or KALSHI_TRADER_TEST_WORKERS=0) runs everything in this process.
set -euo pipefail
cd "$(dirname "$0")"
fast=0
if [ "${1:-}" = "--fast" ]; then
  fast=1
  shift
fi
scripts/bootstrap.sh dev
if [ "$fast" = 0 ]; then
  # The browser tests drive Debian's Chromium; install it when missing and we can (root with apt-get).
  if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing chromium (browser tests)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
      >/tmp/kalshi-trader-chromium-install.log 2>&1 \
      || echo "    chromium install failed (see /tmp/kalshi-trader-chromium-install.log); browser tests will be skipped"
  fi
fi
cpus=$(nproc 2>/dev/null || echo 2)
workers="${KALSHI_TRADER_TEST_WORKERS:-$((cpus < 2 ? 2 : cpus))}"
echo "==> ruff";          .venv/bin/ruff check .
echo "==> ruff format";   .venv/bin/ruff format --check .
echo "==> mypy";          .venv/bin/mypy
echo "==> import-linter"; .venv/bin/lint-imports --no-cache
if [ "$fast" = 1 ]; then
  echo "==> pytest (unit tests, $workers workers)"
  .venv/bin/pytest -n "$workers" --dist loadgroup -q tests/unit -m "not slow" "$@"
else
  echo "==> pytest ($workers workers)"
  .venv/bin/pytest -n "$workers" --dist loadgroup "$@"
fi
