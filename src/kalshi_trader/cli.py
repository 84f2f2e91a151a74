"""The ``kalshi-trader`` command line (Typer + Rich).

Contract: every command prints a user mistake as one clear line on stderr and exits 2 (1 for a
runtime failure), never a traceback; secrets are never printed. Commands stay thin: their logic
lives in the package they front (``exchange`` → ``sim/standalone.py``, ``check`` →
``kalshi/check.py``). Commands that talk to the API take the shared options of ``cli_client.py``
through ``@client_options()``; errors become one line through ``cli_client.user_errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from pydantic import ValidationError

from kalshi_trader.cli_client import (
    PROG,
    ApiEnv,
    ApiUrlOption,
    ClientOptionsError,
    ConfigOption,
    Failure,
    KeyFileOption,
    KeyIdOption,
    ServerClock,
    client_options,
    client_settings,
    fail,
    quiet_logging,
    stderr_logging,
    user_errors,
)
from kalshi_trader.config import Settings, load_settings
from kalshi_trader.domain import PRICE_SCALE, Money, format_qty
from kalshi_trader.kalshi.auth import KeyType
from kalshi_trader.strategy import registry as strategy_registry

if TYPE_CHECKING:
    from datetime import date

    from kalshi_trader.fairvalue.stations import Station
    from kalshi_trader.fairvalue.weather import Bracket

app = typer.Typer(
    name="kalshi-trader",
    help="Automated trading on Kalshi, with an embedded Kalshi-compatible exchange for running offline.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _local_settings(data_dir: Path | None) -> Settings:
    """Settings from the environment and defaults, with ``--data-dir``; invalid: one line, exit 2."""
    with user_errors(Failure(ValidationError, 2)):
        return load_settings(**({} if data_dir is None else {"data_dir": data_dir}))


def _with_exchange(settings: Settings, **flags: Any) -> Settings:
    """``settings`` with the given (not None) ``exchange`` flags; raises pydantic's ``ValidationError``."""
    given = {k: v for k, v in flags.items() if v is not None}
    if not given:
        return settings
    merged = settings.exchange.model_validate({**settings.exchange.model_dump(), **given})
    return settings.model_copy(update={"exchange": merged})


def _check_speed(speed: float | None) -> None:
    if speed is not None and not 0 < speed <= 1_000_000:
        fail(f"--speed must be a positive number up to 1000000, not {speed:g}")


@app.callback()
def _root() -> None:
    """kalshi-trader: see a command's --help for its options."""


@app.command()
def exchange(
    host: str | None = typer.Option(None, help="Interface to listen on [default: 127.0.0.1]."),
    port: int | None = typer.Option(None, help="TCP port; 0 picks a free one [default: 8765]."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where the API key files live [default: ./data]."),
    seed: int | None = typer.Option(None, help="Scenario seed (same seed, same markets and books) [default: 1]."),
    faults: str | None = typer.Option(
        None,
        "--faults",
        help="Inject faults, e.g. 'http_429=0.05,lost_response=0.01,seq_skip=0.001,latency_ms=20' "
        "(all: ws_drop seq_skip seq_repeat malformed http_429 http_5xx lost_response latency_ms); "
        "switch them at run time with PUT /admin/faults [default: none].",
        show_default=False,
    ),
    scenario: str = typer.Option(
        "default",
        "--scenario",
        help="What the exchange lists: 'default' (a fixed seeded catalog with static books) or 'weather' "
        "(a living world: daily temperature markets with NWS endpoints at /nws, other markets and "
        "background traders, on a simulated clock).",
    ),
    speed: float | None = typer.Option(
        None,
        "--speed",
        help="Run simulated time this many times faster than real time, e.g. 60 = an hour a minute "
        "[default: real time].",
        show_default=False,
    ),
    key_type: KeyType | None = typer.Option(
        None,
        "--key-type",
        help="Type of the API key written into the data dir when it holds none yet (api-key-id, "
        "api-key.pem): ed25519, as Kalshi's web app, or rsa. An existing key is reused whatever its type "
        "[default: ed25519].",
        case_sensitive=False,
        show_default=False,
    ),
) -> None:
    """Run the embedded Kalshi-compatible exchange (REST + WebSocket) until Ctrl-C."""
    from kalshi_trader.sim.api.credentials import CredentialsError
    from kalshi_trader.sim.api.faults import FaultSpec, FaultSpecError
    from kalshi_trader.sim.standalone import SCENARIOS, Announcement, serve

    with user_errors(Failure(FaultSpecError, 2, "--faults")):
        fault_spec = FaultSpec.parse(faults) if faults is not None else None
    if scenario not in SCENARIOS:
        fail(f"--scenario must be one of {', '.join(SCENARIOS)}, not {scenario!r}")
    _check_speed(speed)
    with user_errors(Failure(ValidationError, 2)):
        settings = _with_exchange(_local_settings(data_dir), host=host, port=port, seed=seed)
    ex = settings.exchange

    def announce(a: Announcement) -> None:
        typer.echo(f"Embedded Kalshi exchange running (seed {a.seed}, scenario {a.scenario}, {a.speed})")
        typer.echo(f"REST: {a.rest_url}")
        typer.echo(f"WS:   {a.ws_url}")
        if a.nws_url is not None:
            typer.echo(f"NWS:  {a.nws_url}")
        typer.echo(f"API key id file:  {a.key_id_path} ({'created' if a.created else 'reused'}; key id {a.key_id})")
        typer.echo(f"Private key file: {a.key_path} ({a.key_type.label})")
        if key_type is not None and key_type is not a.key_type:
            typer.echo(
                f"Note: --key-type {key_type.value} not applied: the data dir already holds an {a.key_type.label} "
                f"key (move {a.key_id_path.name} and {a.key_path.name} away for a new one)",
                err=True,
            )
        typer.echo(f"Admin token file: {a.admin_token_path} (Authorization: Bearer <token> on /admin)")
        typer.echo(f"Faults: {a.faults}")
        typer.echo("Press Ctrl-C to stop.")

    cannot_listen = f"cannot listen on {ex.host}:{ex.port}"
    with user_errors(Failure(CredentialsError, 2), Failure(OSError, 1, cannot_listen), stopped="Exchange stopped."):
        asyncio.run(
            serve(
                host=ex.host,
                port=ex.port,
                data_dir=settings.data_dir,
                seed=ex.seed,
                cash=Money(ex.starting_balance_dollars * PRICE_SCALE),
                announce=announce,
                faults=fault_spec,
                scenario=scenario,
                speed=speed,
                all_weather_series=ex.all_weather_series,
                key_type=key_type or KeyType.ED25519,
            )
        )


class DataEnv(StrEnum):
    DEMO = "demo"
    PROD = "prod"


class RunMode(StrEnum):
    SIM = "sim"
    PAPER = "paper"
    DEMO = "demo"
    PROD = "prod"


@app.command()
def run(
    env: RunMode | None = typer.Option(
        None,
        "--env",
        help="sim (the embedded exchange), paper (Kalshi's market data, orders matched locally), demo or prod "
        "[default: api.env, else sim].",
        case_sensitive=False,
        show_default=False,
    ),
    web_host: str = typer.Option("127.0.0.1", "--web-host", help="Interface the dashboard listens on."),
    web_port: int = typer.Option(8000, "--web-port", min=0, max=65535, help="Dashboard port; 0 picks a free one."),
    web_allow_remote: bool = typer.Option(
        False,
        "--web-allow-remote",
        help="Allow --web-host to be a non-loopback address (anyone with the token "
        "who can reach it can command the node).",
    ),
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        help="Key files, the record database and web-token live here [default: ./data].",
        show_default=False,
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="sim: scenario seed [default: exchange.seed, 1].", show_default=False
    ),
    speed: float = typer.Option(
        60.0,
        "--speed",
        help="sim: the embedded exchange's clock runs this many times faster than real time "
        "(60 = an hour a minute; 1 = real time).",
    ),
    exchange_port: int | None = typer.Option(
        None,
        "--exchange-port",
        min=0,
        max=65535,
        help="sim: port of the embedded exchange; 0 picks a free one [default: exchange.port, 8765].",
        show_default=False,
    ),
    data_env: DataEnv = typer.Option(
        DataEnv.PROD,
        "--data-env",
        help="paper: where the market data comes from (a read-only API key is enough); --api-url overrides it.",
        case_sensitive=False,
    ),
    api_url: ApiUrlOption = None,
    key_id: KeyIdOption = None,
    key_file: KeyFileOption = None,
    config: ConfigOption = None,
    paused: bool = typer.Option(
        False,
        "--paused",
        help="Start with every strategy stopped (start them on the dashboard or with POST /api/strategy/start).",
    ),
    strategy: list[str] | None = typer.Option(
        None,
        "--strategy",
        help=(
            f"Load only this strategy (repeat for more): {', '.join(strategy_registry.names())}"
            f" [default: {', '.join(strategy_registry.default_names())}]."
        ),
        show_default=False,
    ),
    flatten_on_exit: bool = typer.Option(
        False,
        "--flatten-on-exit",
        help="On Ctrl-C/SIGTERM also close open positions (reduce-only IOC orders) after canceling resting orders.",
    ),
    confirm_prod: bool = typer.Option(
        False, "--yes-trade-real-money", help="Required with --env prod: the node trades real money."
    ),
    verbose: bool = typer.Option(False, "--verbose", help="Log info messages too (to stderr)."),
    record: bool = typer.Option(
        False, "--record", help="Record the market feed while trading, into DATA_DIR/recordings (see `record`)."
    ),
) -> None:
    """Run the trading node and its dashboard until Ctrl-C: with no options, the embedded exchange (the
    weather world on a fast clock), both strategies and the dashboard on http://127.0.0.1:8000."""
    from kalshi_trader.node import Mode, NodeError, NodeOptions

    mode_name = env.value if env is not None else None
    api_env = None if mode_name in (None, "paper") else ApiEnv(mode_name)
    with user_errors(Failure(ClientOptionsError, 2)):
        settings = client_settings(
            env=api_env, api_url=api_url, key_id=key_id, key_file=key_file, data_dir=data_dir, config=config
        )
    mode = Mode(mode_name or settings.api.env)
    try:
        settings = _with_exchange(settings, port=exchange_port, seed=seed)
    except ValidationError as exc:
        fail(f"invalid exchange setting: {exc.errors()[0]['msg']}")
    _check_speed(speed)
    chosen = tuple(dict.fromkeys(strategy)) if strategy else strategy_registry.default_names()
    unknown = [n for n in chosen if n not in strategy_registry.names()]
    if unknown:
        fail(f"--strategy must be one of {', '.join(strategy_registry.names())}, not {unknown[0]!r}")
    options = NodeOptions(
        mode=mode,
        confirm_prod=confirm_prod,
        embedded=mode is Mode.SIM and api_url is None and not settings.api.url,
        speed=None if speed == 1 else speed,
        autostart=not paused,
        strategies=chosen,
        flatten_on_exit=flatten_on_exit,
        record_dir=settings.data_dir / "recordings" if record else None,
        data_env=data_env.value,
    )
    if verbose:
        import logging

        stderr_logging(logging.INFO)
    else:
        quiet_logging()
    from kalshi_trader.web.server import is_loopback

    if not is_loopback(web_host) and not web_allow_remote:
        fail(f"--web-host {web_host} is not a loopback address; add --web-allow-remote to serve it anyway")
    from kalshi_trader.kalshi.auth import KeyFileError

    interrupted = "interrupted before the node stopped cleanly; check resting orders with kalshi-trader orders"
    with user_errors(Failure(KeyFileError, 2), Failure(NodeError, 1), interrupted=interrupted):
        code = asyncio.run(_run_node(settings, options, web_host, web_port, web_allow_remote))
    if code:
        raise typer.Exit(code)


async def _run_node(settings: Settings, options: Any, web_host: str, web_port: int, allow_remote: bool) -> int:
    """``run``'s work: node, then web; wait for SIGINT/SIGTERM; node down first, then web."""
    import signal

    from kalshi_trader.node import NodeError, TradingNode
    from kalshi_trader.web.app import create_app
    from kalshi_trader.web.auth import new_token, write_token, write_url
    from kalshi_trader.web.server import WebServer

    node = TradingNode(settings, options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            typer.echo("Already stopping (canceling resting orders); please wait.", err=True)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    node.on_progress = lambda line: typer.echo(line, err=True)
    starting = asyncio.ensure_future(node.start())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():  # Ctrl-C while start-up rides out faults
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        await node.stop("interrupted during start-up")
        typer.echo("Stopped during start-up.", err=True)
        return 1
    stopping.cancel()
    starting.result()
    token = new_token()
    try:
        token_file = write_token(settings.data_dir, token)
        web = WebServer(create_app(node, token=token), web_host, web_port, allow_remote=allow_remote)
        url = await web.start()
        write_url(settings.data_dir, url)
    except (OSError, ValueError) as exc:
        await node.stop("the dashboard could not start")
        what = f"cannot serve the dashboard on {web_host}:{web_port}"
        raise NodeError(f"{what}: {getattr(exc, 'strerror', None) or exc}") from None
    conn = node.connection()
    where = f"embedded exchange, {conn.speed}, seed {settings.exchange.seed}" if node.embedded else conn.rest_url
    typer.echo(f"kalshi-trader node running: mode {node.mode} ({where})")
    if node.paper is not None:
        typer.echo(
            f"Paper trading: market data from {conn.rest_url}; every order goes to the paper venue "
            f"(record {settings.data_dir / 'paper.db'}, account {settings.data_dir / 'paper-venue.db'})"
        )
    typer.echo(f"Exchange REST: {conn.rest_url}")
    typer.echo(f"Exchange WS:   {conn.ws_url}")
    running = [s.name for s in node.strategies() if s.running]
    typer.echo(f"Strategies:    {', '.join(running) if running else 'none running (start them on the dashboard)'}")
    typer.echo(f"Dashboard:     {url}/?token={token}")
    typer.echo(f"API docs:      {url}/docs   (token also in {token_file})")
    typer.echo("Press Ctrl-C to stop: resting orders are canceled first.", err=False)
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        typer.echo("Stopping: canceling resting orders ...", err=True)
        report = await node.stop("shutdown")
        await web.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    left = "unknown" if report.still_resting < 0 else str(report.still_resting)
    where = "in the paper venue" if node.paper is not None else "at the exchange"
    typer.echo(f"Stopped: {report.canceled} order(s) canceled, {left} left resting {where}.", err=True)
    return 0 if report.still_resting == 0 else 1


db_app = typer.Typer(help="The record database (orders, fills, positions, P&L, audit log).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Where the default SQLite database (kalshi-trader.db) lives [default: ./data]."
    ),
    db_url: str | None = typer.Option(
        None,
        "--db-url",
        help="Database URL, e.g. postgresql://user:password@host:5432/db [default: KALSHI_TRADER_STORE__URL, "
        "else SQLite in the data dir].",
        show_default=False,
    ),
) -> None:
    """Create the database or migrate it to the newest schema (safe to run again)."""
    from kalshi_trader.store import StoreError, resolve_url, upgrade_to_head

    settings = _local_settings(data_dir)
    with user_errors(Failure(StoreError, 2)):
        resolved = resolve_url(db_url if db_url is not None else settings.store.url, settings.data_dir)
    with user_errors(Failure(StoreError, 1), interrupted="interrupted; the database is at its previous revision"):
        revision = asyncio.run(upgrade_to_head(resolved))
    typer.echo(f"Database {resolved.redacted} is at revision {revision} (head).")


@app.command("fairvalue")
@client_options()
def fairvalue_cmd(
    series: str = typer.Argument(..., help="A daily temperature series: a high (KXHIGHNY) or a low (KXLOWTNYC)."),
    event: str | None = typer.Option(None, "--event", help="Event ticker (default: the series' next open event)."),
    brackets: str | None = typer.Option(
        None,
        "--brackets",
        help="Price these brackets instead of the exchange's markets, e.g. '77-,78-79,80-81,82+' "
        "(77- = 77 or below, 82+ = 82 or above); with --event or today's date.",
    ),
    nws_url: str | None = typer.Option(
        None,
        "--nws-url",
        help="NWS API base URL (default: nws.base_url, else the embedded exchange's /nws in sim, else "
        "api.weather.gov).",
    ),
    *,
    settings: Settings,
) -> None:
    """Print the model's bracket probabilities for SERIES's next open event from NWS data."""
    from kalshi_trader.fairvalue.nws import NwsError
    from kalshi_trader.fairvalue.stations import event_date, station_for_series
    from kalshi_trader.fairvalue.weather import BracketError, check_partition, parse_brackets

    with user_errors(Failure(ValueError, 2)):
        station = station_for_series(series)
        given = check_partition(parse_brackets(brackets)) if brackets is not None else None
        day = event_date(event) if event is not None else None
    if event is not None and not event.upper().startswith(station.series + "-"):
        fail(f"event {event} is not an event of {station.series}")
    quiet_logging()  # retries and warnings go to stderr: stdout is the table
    # Bad data from NWS or the exchange is a runtime failure; another ValueError (e.g. an unusable
    # --nws-url) is the user's.
    with user_errors(Failure((NwsError, BracketError), 1), Failure(ValueError, 2)):
        lines = asyncio.run(_fairvalue(settings, station, event, day, given, nws_url))
    for line in lines:
        typer.echo(line)


async def _fairvalue(
    settings: Settings,
    station: Station,
    event: str | None,
    day: date | None,
    given: list[Bracket] | None,
    nws_url: str | None,
) -> list[str]:
    """``fairvalue``'s work: brackets (given, or the event's markets from the Kalshi REST API),
    then NWS data → model → lines. "Now" is the NWS server's: the ``Date`` of its ``/points``
    answer (the wall clock at api.weather.gov, the simulated clock at the embedded exchange's
    ``/nws``), else the local clock."""
    from zoneinfo import ZoneInfo

    import aiohttp

    from kalshi_trader.fairvalue.live import event_fair_values, format_event
    from kalshi_trader.fairvalue.nws import NwsClient
    from kalshi_trader.fairvalue.stations import event_date, event_ticker

    brackets = given
    if brackets is None:
        event, brackets, station = await _event_brackets(settings, station.series, event)
        day = event_date(event)
    clock = ServerClock()
    timeout = aiohttp.ClientTimeout(total=settings.nws.timeout_s)
    async with (
        aiohttp.ClientSession(timeout=timeout, trace_configs=[clock.trace_config()]) as session,
        NwsClient(settings.nws, base_url=nws_url or settings.nws_url(), session=session, clock=clock) as client,
    ):
        await client.point(station.latitude, station.longitude)  # cached: the model's lookup reuses it
        now = clock()
        if day is None:  # given brackets without --event: the event of "today" (trading closes 23:59 LST)
            day = now.astimezone(ZoneInfo(station.time_zone)).date()
        event = event.upper() if event else event_ticker(station.series, day)
        fv = await event_fair_values(client, station, day, brackets, now=now)
    return format_event(fv, event)


async def _event_brackets(settings: Settings, series: str, event: str | None) -> tuple[str, list[Bracket], Station]:
    """The event (given, else the open event of ``series`` closing first), its markets' brackets,
    and the settlement station as the API states it (the markets' rules, the series' settlement
    sources; ``fairvalue.stations.station_from_api``)."""
    from kalshi_trader.fairvalue.stations import station_from_api
    from kalshi_trader.fairvalue.weather import Bracket
    from kalshi_trader.kalshi.convert import market_info, settlement_sources
    from kalshi_trader.kalshi.rest import KalshiRest

    # Public market data: no key needed (and none is loaded).
    async with KalshiRest(settings.rest_url(), None, tier=settings.api.tier, timeout_s=settings.api.timeout_s) as rest:
        with user_errors(*_api_failures(f"cannot read markets from {settings.rest_url()}")):
            if event is not None:
                markets = [m async for m in rest.iter_markets(event_ticker=event.upper())]
            else:
                markets = [m async for m in rest.iter_markets(series_ticker=series, status="open")]
            info = await rest.get_series(series) if markets else None
    with user_errors(Failure(ValueError, 1, "unexpected market data")):
        infos = [market_info(m) for m in markets]
    if not infos or info is None:
        what = f"markets in event {event.upper()}" if event else f"open event of {series}"
        fail(f"no {what} at {settings.rest_url()}", 1)
    chosen = event.upper() if event is not None else min(infos, key=lambda m: (m.close_ms, m.event_ticker)).event_ticker
    ours = [m for m in infos if m.event_ticker == chosen]
    with user_errors(Failure(ValueError, 1)):
        station = station_from_api(
            series, rules_primary=ours[0].rules_primary, settlement_sources=settlement_sources(info), title=info.title
        )
    return chosen, [Bracket.from_market(m) for m in ours], station


# -- API client commands (options shared through kalshi_trader.cli_client) ------------------------


@app.command()
@client_options()
def check(*, settings: Settings) -> None:
    """Check the API: reachable, key accepted (and its type), balance, clock skew (exit 1 if a check
    fails; an unusable key file is one line and exit 2)."""
    from kalshi_trader.kalshi.auth import KeyFileError
    from kalshi_trader.kalshi.check import run_checks
    from kalshi_trader.kalshi.rest import signer_from_settings

    quiet_logging()
    with user_errors(Failure(KeyFileError, 2)):
        signer = signer_from_settings(settings)
    with user_errors():
        results = asyncio.run(run_checks(settings, signer))
    width = max(len(r.name) for r in results)
    for r in results:
        typer.echo(f"{'✓' if r.ok else '✗'} {r.name:<{width}}  {r.detail}")
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command()
def keygen(
    out: Path = typer.Option(
        ...,
        "--out",
        help="Private key file to write (PEM, mode 600); the public key goes beside it as FILE.pub.",
        show_default=False,
    ),
    kind: KeyType = typer.Option(
        KeyType.ED25519, "--type", help="ed25519 (Kalshi's default) or rsa (2048-bit).", case_sensitive=False
    ),
) -> None:
    """Make a new API key pair whose public key you register with Kalshi (never overwrites a file)."""
    from kalshi_trader.kalshi.auth import KeyFileError, describe_key, generate_private_key, write_key_pair

    key = generate_private_key(kind)
    with user_errors(Failure(KeyFileError, 2)):
        private, public = write_key_pair(key, out)
    typer.echo(f"Private key: {private} ({describe_key(key)}, mode 600; keep it secret, it never leaves this machine)")
    typer.echo(f"Public key:  {public}")
    typer.echo("")
    typer.echo(public.read_text().rstrip("\n"))
    typer.echo("")
    typer.echo(
        "Register this public key with Kalshi (Account settings > API Keys, on demo.kalshi.co for demo), "
        f"then run with --key-id <the key id Kalshi shows> --key-file {private}"
    )


class MarketStatusFilter(StrEnum):
    UNOPENED = "unopened"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"
    SETTLED = "settled"


@app.command()
@client_options()
def markets(
    series: str | None = typer.Option(None, "--series", help="Only this series, e.g. KXHIGHNY.", show_default=False),
    status: MarketStatusFilter | None = typer.Option(
        None, "--status", help="Only markets in this state [default: any].", show_default=False, case_sensitive=False
    ),
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="Show at most N markets."),
    *,
    settings: Settings,
) -> None:
    """List markets: ticker, title, YES bid/ask, volume, close time."""
    quiet_logging()
    with user_errors(*_api_failures(f"cannot list markets from {settings.rest_url()}", "unexpected market data")):
        rows = asyncio.run(_market_rows(settings, series, status.value if status else None, limit))
    if not rows:
        typer.echo("No markets match.")
        return
    _table(
        [
            ("Ticker", False),
            ("Title", False),
            ("Yes bid", True),
            ("Yes ask", True),
            ("Volume", True),
            ("Closes (UTC)", False),
        ],
        rows,
        max_widths={"Title": 60},
    )


def _price_cell(price: int, *, empty: int) -> str:
    """A YES price as dollars with the digits it needs (``0.56``, ``0.555``); ``—`` for an empty side."""
    from kalshi_trader.kalshi.check import dollars

    return "—" if price == empty else dollars(Money(price)).removeprefix("$")


async def _market_rows(settings: Settings, series: str | None, status: str | None, limit: int) -> list[tuple[str, ...]]:
    from datetime import UTC, datetime

    from kalshi_trader.kalshi import convert
    from kalshi_trader.kalshi.rest import KalshiRest

    rows: list[tuple[str, ...]] = []
    async with KalshiRest.from_settings(settings) as rest:
        async for market in rest.iter_markets(page_size=min(limit, 1000), series_ticker=series, status=status):
            info, quote = convert.market_info(market), convert.market_quote(market)
            closes = datetime.fromtimestamp(quote.close_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
            volume = format_qty(quote.volume).removesuffix(".00")
            rows.append(
                (
                    info.ticker,
                    info.title,
                    _price_cell(quote.yes_bid, empty=0),
                    _price_cell(quote.yes_ask, empty=PRICE_SCALE),
                    volume,
                    closes,
                )
            )
            if len(rows) >= limit:
                break
    return rows


@app.command()
@client_options()
def book(
    ticker: str = typer.Argument(..., help="Market ticker, e.g. KXHIGHNY-26MAY16-B78.5.", show_default=False),
    once: bool = typer.Option(False, "--once", help="Print one snapshot of the book and exit."),
    depth: int = typer.Option(10, "--depth", min=1, max=1000, help="Price levels shown per side."),
    *,
    settings: Settings,
) -> None:
    """Show TICKER's order book ladder, live from the WebSocket feed, until Ctrl-C."""
    from rich.console import Console

    from kalshi_trader.kalshi.ws import WsError
    from kalshi_trader.marketdata.ladder import BookViewError, show_book

    quiet_logging()
    api = _api_failures(f"cannot read {ticker} from {settings.rest_url()}")
    with user_errors(Failure((BookViewError, WsError), 1), *api, stopped="Stopped."):
        asyncio.run(show_book(settings, ticker.strip().upper(), Console(), once=once, depth=depth))


def _table(
    headers: list[tuple[str, bool]], rows: Sequence[tuple[str, ...]], *, max_widths: dict[str, int] | None = None
) -> None:
    """Print a Rich table (``(name, right_aligned)`` headers; ``max_widths`` cuts long columns with
    an ellipsis); wide when piped, so it is not squeezed into Rich's default 80 columns."""
    from rich.console import Console
    from rich.table import Table

    widths = max_widths or {}
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name, right in headers:
        table.add_column(
            name,
            justify="right" if right else "left",
            no_wrap=True,
            overflow="ellipsis" if name in widths else "fold",
            max_width=widths.get(name),
        )
    for row in rows:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    console.print(table)


def _api_failures(cannot: str, unexpected: str | None = None) -> tuple[Failure, ...]:
    """The API client's errors for ``user_errors``: a key file that cannot be used (exit 2), the
    API's errors (``cannot: <error>``, exit 1) and, given ``unexpected``, data that does not
    convert (``ValueError``, exit 1)."""
    from kalshi_trader.kalshi.auth import KeyFileError
    from kalshi_trader.kalshi.errors import KalshiError

    failures = (Failure(KeyFileError, 2), Failure(KalshiError, 1, cannot))
    return failures if unexpected is None else (*failures, Failure(ValueError, 1, unexpected))


def _api_call(settings: Settings, what: str, work: Any) -> Any:
    """Run ``work(rest)`` with a signed client; API trouble is one error line."""
    from kalshi_trader.kalshi.rest import KalshiRest

    async def go() -> Any:
        async with KalshiRest.from_settings(settings, require_key=True) as rest:
            return await work(rest)

    quiet_logging()
    where = settings.rest_url()
    with user_errors(*_api_failures(f"cannot {what} at {where}", f"unexpected data from {where}")):
        return asyncio.run(go())


@app.command()
@client_options()
def orders(
    ticker: str | None = typer.Option(None, "--ticker", help="Only this market.", show_default=False),
    all_orders: bool = typer.Option(False, "--all", help="Every order, not only resting ones."),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, help="Show at most N orders."),
    *,
    settings: Settings,
) -> None:
    """List the account's resting orders (or every order with --all), newest first."""
    from kalshi_trader.domain import Order, format_price
    from kalshi_trader.kalshi import convert

    async def work(rest: Any) -> list[Order]:
        found: list[Order] = []
        filters: dict[str, Any] = {"ticker": ticker.upper() if ticker else None}
        if not all_orders:
            filters["status"] = "resting"
        async for o in rest.iter_orders(**filters):
            found.append(convert.order(o))
            if len(found) >= limit:
                break
        return found

    found: list[Order] = _api_call(settings, "list orders", work)
    if not found:
        typer.echo("No resting orders." if not all_orders else "No orders.")
        return
    _table(
        [
            ("Order id", False),
            ("Ticker", False),
            ("Side", False),
            ("Price", True),
            ("Left", True),
            ("Filled", True),
            ("Status", False),
        ],
        [
            (
                o.order_id,
                o.ticker,
                "buy YES" if o.side.value == "bid" else "buy NO",
                format_price(o.price),
                format_qty(o.remaining),
                format_qty(o.filled),
                o.status.value,
            )
            for o in sorted(found, key=lambda o: o.created_ms, reverse=True)
        ],
    )


@app.command()
@client_options()
def positions(*, settings: Settings) -> None:
    """List the account's open positions (> 0 YES, < 0 NO) with exposure and realized P&L."""
    from kalshi_trader.domain import Position, format_money
    from kalshi_trader.kalshi import convert

    async def work(rest: Any) -> list[Position]:
        return [p for p in [convert.position(p) async for p in rest.iter_positions()] if p.qty]

    found: list[Position] = _api_call(settings, "list positions", work)
    if not found:
        typer.echo("No open positions.")
        return
    _table(
        [("Ticker", False), ("Position", True), ("Exposure", True), ("Realized P&L", True), ("Fees", True)],
        [
            (p.ticker, format_qty(p.qty), format_money(p.cost), format_money(p.realized_pnl), format_money(p.fees_paid))
            for p in sorted(found, key=lambda p: p.ticker)
        ],
    )


@app.command("cancel-all")
@client_options()
def cancel_all(
    ticker: str | None = typer.Option(None, "--ticker", help="Only this market's orders.", show_default=False),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    *,
    settings: Settings,
) -> None:
    """Cancel every resting order of the account (asks first unless --yes); exit 1 if any remain."""
    where = settings.rest_url()
    if not yes:
        if not sys.stdin.isatty():
            fail("cancel-all needs --yes when not run from a terminal")
        if not typer.confirm(f"Cancel every resting order{' in ' + ticker.upper() if ticker else ''} at {where}?"):
            fail("nothing canceled", 1)

    async def work(rest: Any) -> tuple[int, int]:
        canceled = 0
        filters: dict[str, Any] = {"status": "resting", "ticker": ticker.upper() if ticker else None}
        for _ in range(5):
            markets = {o.order_id: o.ticker async for o in rest.iter_orders(**filters)}
            ids = list(markets)
            if not ids:
                return canceled, 0
            step = max(1, rest.limiter.tier.write_capacity // 2)
            for i in range(0, len(ids), step):  # each item names its market: Kalshi routes it to its shard
                reply = await rest.batch_cancel_orders(ids[i : i + step], market_tickers=markets)
                canceled += sum(1 for item in reply.orders if item.error is None)
        left = len([o async for o in rest.iter_orders(**filters)])
        return canceled, left

    canceled, left = _api_call(settings, "cancel orders", work)
    typer.echo(f"Canceled {canceled} order(s); {left} still resting.")
    if left:
        raise typer.Exit(1)


# -- recording the market and downloading its history ----------------------------------------------


def _names(values: list[str] | None) -> frozenset[str]:
    """Repeated and comma-separated tickers, upper-cased."""
    return frozenset(n.strip().upper() for v in values or () for n in v.split(",") if n.strip())


def _size(n: int) -> str:
    """Bytes for people: ``812 B``, ``3.4 MB``."""
    size, units = float(n), ("B", "KB", "MB", "GB")
    for unit in units[:-1]:
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} {units[-1]}"


@app.command()
@client_options()
def record(
    series: list[str] | None = typer.Option(
        None,
        "--series",
        help="Record the open markets of this series (repeat or comma-separate) [default: the strategies' series].",
        show_default=False,
    ),
    markets: list[str] | None = typer.Option(
        None, "--markets", help="Record these market tickers (repeat or comma-separate).", show_default=False
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Recording directory [default: DATA_DIR/recordings].", show_default=False
    ),
    *,
    settings: Settings,
) -> None:
    """Record the public feed of the chosen markets (every WebSocket frame, the REST market metadata and,
    for weather series, the NWS responses) into compressed rotating files until Ctrl-C; a rerun appends."""
    from kalshi_trader.recording.live import RecordError, Selection, default_series
    from kalshi_trader.recording.manifest import ManifestError
    from kalshi_trader.recording.writer import RecordingBusyError

    chosen_series, chosen_markets = _names(series), _names(markets)
    if not chosen_series and not chosen_markets:
        chosen_series = default_series(settings)
    selection = Selection(chosen_series, chosen_markets)
    out_dir = out if out is not None else settings.data_dir / "recordings"
    quiet_logging()
    failures = (
        Failure((ManifestError, RecordingBusyError), 2),
        Failure(RecordError, 1),
        *_api_failures("cannot record"),
    )
    with user_errors(*failures, stopped="Stopped."):
        asyncio.run(_record(settings, out_dir, selection))


async def _record(settings: Settings, out_dir: Path, selection: Any) -> None:
    import signal
    import time

    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from kalshi_trader.host.fair import FairValueFeed
    from kalshi_trader.recording.live import Status, record_market

    console = Console(stderr=True)
    live = Live(console=console, auto_refresh=False, transient=False) if console.is_terminal else None
    last_line = [0.0]

    def line(s: Status) -> str:
        state = "connected" if s.connected else "disconnected"
        lost = f", {s.dropped} lost" if s.dropped else ""
        error = f", error: {s.last_error}" if s.last_error else ""
        return (
            f"recording {s.markets} markets to {out_dir}: {s.frames} frames, {s.frames_per_s:.0f} frames/s, "
            f"{_size(s.disk_bytes)} on disk in {s.segments} segment(s), {state}{lost}{error}"
        )

    def on_status(s: Status) -> None:
        if live is not None:
            live.update(Text(line(s)), refresh=True)
        elif time.monotonic() - last_line[0] >= 10:
            last_line[0] = time.monotonic()
            typer.echo(line(s), err=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if live is not None:
        live.start()
    try:
        final = await record_market(settings, out_dir, selection, stop=stop, on_status=on_status, weather=FairValueFeed)
    finally:
        if live is not None:
            live.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    typer.echo(f"Stopped: {final.frames} frames recorded in {out_dir} ({_size(final.disk_bytes)} on disk).", err=True)


history_app = typer.Typer(help="Kalshi's market history (settled markets, trades, candlesticks).", no_args_is_help=True)
app.add_typer(history_app, name="history")


@history_app.command("download")
@client_options()
def history_download(
    series: list[str] | None = typer.Option(
        None, "--series", help="Series to download (repeat or comma-separate), e.g. KXHIGHNY.", show_default=False
    ),
    first: str = typer.Option(
        ..., "--from", help="First day, e.g. 2026-05-01 (the date in the event ticker).", show_default=False
    ),
    last: str | None = typer.Option(None, "--to", help="Last day [default: --from].", show_default=False),
    markets: list[str] | None = typer.Option(
        None, "--markets", help="Only these market tickers (their series are implied).", show_default=False
    ),
    period: int = typer.Option(60, "--period", help="Candlestick period in minutes: 1, 60 or 1440."),
    *,
    settings: Settings,
) -> None:
    """Download settled markets with their trades and candlesticks into DATA_DIR/history/<SERIES>/ as
    Parquet, from Kalshi's live and historical tiers; a rerun resumes where a stopped one left off."""
    from kalshi_trader.history.download import HistoryError, HistoryRequest, parse_day
    from kalshi_trader.kalshi.convert import series_of

    chosen_markets = _names(markets)
    chosen_series = _names(series) | {series_of(t.rsplit("-", 1)[0]) for t in chosen_markets}
    if not chosen_series:
        fail("give --series (or --markets)")
    with user_errors(Failure(HistoryError, 2)):
        start = parse_day(first, "--from")
        end = parse_day(last, "--to") if last is not None else start
        request = HistoryRequest(tuple(sorted(chosen_series)), start, end, chosen_markets, period)
    quiet_logging()
    where = settings.rest_url()
    failures = (
        Failure(HistoryError, 2),
        *_api_failures(f"cannot download from {where}", f"unexpected data from {where}"),
    )
    with user_errors(*failures, interrupted="interrupted; run the same command again to resume"):
        summaries = asyncio.run(_history_download(settings, request))
    root = settings.data_dir / "history"
    for s in summaries:
        tiers = ", ".join(f"{n} {tier}" for tier, n in sorted(s.by_tier.items())) or "none"
        typer.echo(
            f"{s.series}: {s.markets} settled market(s) ({tiers}); this run fetched {s.fetched} "
            f"({s.trades} trades, {s.candles} candles) into {root / s.series}"
        )


async def _history_download(settings: Settings, request: Any) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from kalshi_trader.history.download import download
    from kalshi_trader.kalshi.rest import KalshiRest

    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    tasks: dict[str, Any] = {}

    class Shown:
        def series_started(self, series: str, markets: int, done: int) -> None:
            tasks[series] = bars.add_task(f"{series} markets", total=markets, completed=done)

        def market_done(self, series: str, ticker: str, trades: int, candles: int) -> None:
            bars.advance(tasks[series])

    async with KalshiRest.from_settings(settings) as rest:
        with bars:
            return await download(rest, settings.data_dir / "history", request, Shown())


@app.command()
@client_options("config", "data_dir")
def backtest(
    data: Path | None = typer.Option(
        None,
        "--data",
        help="A recording (`record`, `run --record`) or a history download [default: DATA_DIR/recordings].",
        show_default=False,
    ),
    report: Path | None = typer.Option(
        None, "--report", help="Also write the report as one self-contained HTML file.", show_default=False
    ),
    first: str | None = typer.Option(
        None,
        "--from",
        help="Trade from this time (UTC), e.g. 2026-12-07T15:00; earlier data warms up.",
        show_default=False,
    ),
    last: str | None = typer.Option(None, "--to", help="Stop at this time (UTC).", show_default=False),
    strategy: list[str] | None = typer.Option(
        None,
        "--strategy",
        help="Run only this strategy (repeat for more) [default: those `run` loads].",
        show_default=False,
    ),
    assignments: list[str] | None = typer.Option(
        None, "--set", help="Change any setting for this run: section.field=value (repeatable).", show_default=False
    ),
    sweep: list[str] | None = typer.Option(
        None, "--sweep", help="Run a grid: section.field=v1,v2,... (repeat for more dimensions).", show_default=False
    ),
    jobs: int = typer.Option(2, "--jobs", min=1, help="--sweep: processes run in parallel."),
    *,
    settings: Settings,
) -> None:
    """Replay recorded market data through the strategies, risk and execution engine with the paper venue
    as the exchange (no sleeping: the recorded times drive the clock) and report what they would have done."""
    from kalshi_trader.backtest.data import BacktestError, parse_time
    from kalshi_trader.backtest.overrides import apply, parse_assignment
    from kalshi_trader.backtest.sweep import parse_sweep
    from kalshi_trader.strategy import registry

    chosen = tuple(dict.fromkeys(strategy)) if strategy else registry.default_names()
    unknown = [n for n in chosen if n not in registry.names()]
    if unknown:
        fail(f"--strategy must be one of {', '.join(registry.names())}, not {unknown[0]!r}")
    source = data if data is not None else settings.data_dir / "recordings"
    with user_errors(Failure((BacktestError, ValueError), 2)):
        start_ms = parse_time(first, "--from") if first else None
        end_ms = parse_time(last, "--to") if last else None
        if start_ms is not None and end_ms is not None and end_ms <= start_ms:
            raise BacktestError("--to must be after --from")
        sets = tuple(parse_assignment(a) for a in assignments or ())
        configured = apply(settings, sets)
        dims = parse_sweep(sweep or ())
        for name, values in dims:
            for value in values:
                apply(configured, [(name, value)])
        if dims and report is not None:
            raise BacktestError("--report writes one run's report: rerun a row's command (printed) with --report")
    import logging

    stderr_logging(logging.ERROR)  # the replayed node's warnings (a fair value it could not price) are the run's
    with user_errors(Failure((BacktestError, OSError), 2), interrupted="interrupted"):
        if dims:
            _backtest_sweep(source, settings, chosen, start_ms, end_ms, sets, dims, jobs)
        else:
            _backtest_once(source, configured, chosen, start_ms, end_ms, sets, report)


def _backtest_command(source: Path, chosen: Sequence[str], first: int | None, last: int | None) -> list[str]:
    from datetime import UTC, datetime

    argv = [PROG, "backtest", "--data", str(source)]
    for flag, ms in (("--from", first), ("--to", last)):
        if ms is not None:
            argv += [flag, datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")]
    for name in chosen:
        argv += ["--strategy", name]
    return argv


def _backtest_once(
    source: Path,
    settings: Settings,
    chosen: tuple[str, ...],
    start_ms: int | None,
    end_ms: int | None,
    sets: tuple[tuple[str, str], ...],
    report: Path | None,
) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from kalshi_trader.backtest.html import render_html
    from kalshi_trader.backtest.report import render_console
    from kalshi_trader.backtest.runner import BacktestSpec, run_backtest

    spec = BacktestSpec(source, settings, chosen, start_ms=start_ms, end_ms=end_ms, overrides=sets)
    err = Console(stderr=True)
    bars = Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = bars.add_task("", total=None)

    def shown(p: Any) -> None:
        from datetime import UTC, datetime

        when = datetime.fromtimestamp(p.market_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
        rate = p.records / p.wall_s if p.wall_s > 0 else 0
        bars.update(
            task, completed=p.records, total=p.total or None, description=f"at {when} UTC, {rate:,.0f} records/s"
        )

    with bars:
        result = asyncio.run(run_backtest(spec, shown))
    render_console(result, Console())
    if report is not None:
        report.write_text(render_html(result), encoding="utf-8")
        typer.echo(f"Report: {report}")


def _backtest_sweep(
    source: Path,
    settings: Settings,
    chosen: tuple[str, ...],
    start_ms: int | None,
    end_ms: int | None,
    sets: tuple[tuple[str, str], ...],
    dims: list[tuple[str, list[str]]],
    jobs: int,
) -> None:
    from rich.console import Console
    from rich.table import Table

    from kalshi_trader.backtest.report import money
    from kalshi_trader.backtest.sweep import SweepJob, grid, run_sweep

    base = _backtest_command(source, chosen, start_ms, end_ms)
    for name, value in sets:
        base += ["--set", f"{name}={value}"]
    combos = grid(dims)
    job = SweepJob(source, settings, chosen, start_ms, end_ms, sets, tuple(base))
    typer.echo(f"Sweep: {len(combos)} backtests, {jobs} at a time", err=True)
    finished = [0]

    def on_row(row: Any) -> None:
        finished[0] += 1
        state = f"error: {row.error}" if row.error else f"net {money(row.net)}"
        typer.echo(f"[{finished[0]}/{len(combos)}] {state}: {row.command}", err=True)

    rows = run_sweep(job, combos, jobs=jobs, on_row=on_row)
    table = Table(title="Sweep")
    names = [n for n, _ in dims]
    for col in (*names, "net P&L ($)", "fees ($)", "fills", "win rate", "max DD ($)", "refused", "Brier fair/mid"):
        table.add_column(col, justify="left" if col in names else "right")
    for row in rows:
        values = [v for _, v in row.combo]
        if row.error:
            table.add_row(*values, f"error: {row.error}", "", "", "", "", "", "")
            continue
        win = "-" if row.win_rate is None else f"{row.win_rate:.0%}"
        brier = "-" if row.brier_fair is None else f"{row.brier_fair:.4f}/{row.brier_mid:.4f}"
        table.add_row(
            *values,
            money(row.net),
            money(row.fees),
            str(row.fills),
            win,
            money(row.max_drawdown),
            str(row.refused),
            brier,
        )
    console = Console()
    console.print(table)
    console.print("Rerun a row alone (add --report FILE.html for its report):")
    for i, row in enumerate(rows, 1):
        console.print(f"  {i}. {row.command}", soft_wrap=True, markup=False, highlight=False)


@app.command()
@client_options("config", "data_dir")
def status(
    url: str | None = typer.Option(
        None,
        "--url",
        help="The node's dashboard address [default: DATA_DIR/web-url, else http://127.0.0.1:8000].",
        show_default=False,
    ),
    watch: bool = typer.Option(False, "--watch", help="Keep the view up to date until Ctrl-C."),
    interval: float = typer.Option(2.0, "--interval", min=0.2, help="--watch: seconds between refreshes."),
    *,
    settings: Settings,
) -> None:
    """The running node's balance, P&L, exposure, breakers, strategies and connection, read from its
    API with the token in the data dir (for servers without a browser)."""
    import time

    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from kalshi_trader.status import StatusError, fetch, locate, render

    console = Console()
    with user_errors(Failure(StatusError, 1)):
        node = locate(settings.data_dir, url)
        if not watch:
            console.print(render(fetch(node)))
            return
    typer.echo(f"Watching the node at {node.url} every {interval:g} s (Ctrl-C to quit)", err=True)
    try:
        with Live(console=console, auto_refresh=False, screen=False) as live:
            while True:
                try:
                    view: Any = render(fetch(node))
                except StatusError as exc:
                    view = Text(f"{exc} — retrying every {interval:g} s (Ctrl-C to quit)", style="red")
                live.update(view, refresh=True)
                time.sleep(interval)
    except KeyboardInterrupt:
        pass


alerts_app = typer.Typer(help="Alerts sent through Apprise ([alerts] urls in the config).", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("test")
@client_options("config", "data_dir")
def alerts_test(settings: Settings) -> None:
    """Send one test message to every configured alert URL and say how each went (exit 1 if one failed)."""
    from kalshi_trader.alerts import Severity
    from kalshi_trader.alerts.sender import ApprisePoster

    urls = [u.get_secret_value() for u in settings.alerts.urls]
    if not urls:
        fail("no alert URLs configured: set urls in the [alerts] section of --config or KALSHI_TRADER_ALERTS__URLS")
    poster = ApprisePoster(urls, timeout_s=settings.alerts.timeout_s)
    typer.echo(f"Sending a test message to {len(urls)} alert URL(s) ...")
    results = poster.post(
        "kalshi-trader: test alert",
        "If you can read this, kalshi-trader's alerts reach you here.",
        Severity.INFO,
    )
    for n, r in enumerate(results, 1):
        typer.echo(f"{n}. {r.target}: " + ("delivered" if r.ok else f"FAILED: {r.error}"))
    failed = sum(1 for r in results if not r.ok)
    if failed:
        typer.echo(f"{failed} of {len(results)} failed.", err=True)
        raise typer.Exit(1)
    typer.echo(f"All {len(results)} delivered.")


config_app = typer.Typer(
    help="Settings (from --config TOML, KALSHI_TRADER_* variables and defaults).", no_args_is_help=True
)
app.add_typer(config_app, name="config")


@config_app.command("show")
@client_options("config", "data_dir")
def config_show(
    settings: Settings,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of TOML."),
) -> None:
    """Print the effective settings, every section, with secrets redacted."""
    import json

    from kalshi_trader.settings_view import effective_settings, to_toml

    values = effective_settings(settings)
    typer.echo(json.dumps(values, indent=2) if as_json else to_toml(values), nl=not as_json)
    if as_json:
        typer.echo("")


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
