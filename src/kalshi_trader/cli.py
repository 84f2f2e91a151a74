"""The ``kalshi-trader`` command line (Typer + Rich).

Contract: every command prints a user mistake as one clear line on stderr and exits 2 (1 for a
runtime failure), never a traceback; secrets are never printed. Commands stay thin: their logic
lives in the package they front (``exchange`` → ``sim/standalone.py``).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError

from kalshi_trader.config import load_settings
from kalshi_trader.domain import PRICE_SCALE, Money

app = typer.Typer(
    name="kalshi-trader",
    help="Automated trading on Kalshi, with an embedded Kalshi-compatible exchange for running offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

PROG = "kalshi-trader"


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one error line on stderr and exit with ``code``."""
    typer.echo(f"{PROG}: error: {message}", err=True)
    raise typer.Exit(code)


@app.callback()
def _root() -> None:
    """kalshi-trader: see a command's --help for its options."""


@app.command()
def exchange(
    host: str | None = typer.Option(None, help="Interface to listen on [default: 127.0.0.1]."),
    port: int | None = typer.Option(None, help="TCP port; 0 picks a free one [default: 8765]."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where the API key files live [default: ./data]."),
    seed: int | None = typer.Option(None, help="Scenario seed (same seed, same markets and books) [default: 1]."),
) -> None:
    """Run the embedded Kalshi-compatible exchange (REST + WebSocket) until Ctrl-C."""
    from kalshi_trader.sim.credentials import CredentialsError
    from kalshi_trader.sim.standalone import Announcement, serve

    overrides: dict[str, Any] = {} if data_dir is None else {"data_dir": data_dir}
    flags = {k: v for k, v in (("host", host), ("port", port), ("seed", seed)) if v is not None}
    try:
        settings = load_settings(**overrides)
        if flags:
            merged = settings.exchange.model_validate({**settings.exchange.model_dump(), **flags})
            settings = settings.model_copy(update={"exchange": merged})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        fail(f"invalid {where}: {first['msg']}")
    ex = settings.exchange

    def announce(a: Announcement) -> None:
        typer.echo(f"Embedded Kalshi exchange running (seed {a.seed})")
        typer.echo(f"REST: {a.rest_url}")
        typer.echo(f"WS:   {a.ws_url}")
        typer.echo(f"API key id file:  {a.key_id_path} ({'created' if a.created else 'reused'}; key id {a.key_id})")
        typer.echo(f"Private key file: {a.key_path}")
        typer.echo("Press Ctrl-C to stop.")

    try:
        asyncio.run(
            serve(
                host=ex.host,
                port=ex.port,
                data_dir=settings.data_dir,
                seed=ex.seed,
                cash=Money(ex.starting_balance_dollars * PRICE_SCALE),
                announce=announce,
            )
        )
    except KeyboardInterrupt:
        typer.echo("Exchange stopped.", err=True)
    except CredentialsError as exc:
        fail(str(exc), 2)
    except OSError as exc:
        fail(f"cannot listen on {ex.host}:{ex.port}: {exc.strerror or exc}", 1)


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:
        if type(exc).__name__ != "NoArgsIsHelpError":  # that one has already printed the help
            typer.echo(f"{PROG}: error: {exc.format_message()}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except typer.Abort:
        typer.echo(f"{PROG}: aborted", err=True)
        sys.exit(1)
    if isinstance(code, int):
        sys.exit(code)
