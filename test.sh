#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then lint, types,
# architecture contracts and every test. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh dev
echo "==> ruff";          .venv/bin/ruff check .
echo "==> mypy";          .venv/bin/mypy
echo "==> import-linter"; .venv/bin/lint-imports --no-cache
echo "==> pytest";        .venv/bin/pytest "$@"
