#!/usr/bin/env bash
# Installs kalshi-trader into .venv (first run only) and runs it. Arguments go to the CLI;
# with none it runs the trading node (kalshi-trader run: embedded exchange, strategies, dashboard).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
if [ $# -eq 0 ]; then set -- run; fi
exec .venv/bin/kalshi-trader "$@"
