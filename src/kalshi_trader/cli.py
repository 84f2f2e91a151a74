"""The ``kalshi-trader`` command line (Typer + Rich).

Contract: every command prints a user mistake as one clear line on stderr and exits 2 (1 for a
runtime failure), never a traceback; secrets are never printed.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="kalshi-trader",
    help="Automated trading on Kalshi, with an embedded Kalshi-compatible exchange for running offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """kalshi-trader: see a command's --help for its options."""


def main() -> None:
    app()
