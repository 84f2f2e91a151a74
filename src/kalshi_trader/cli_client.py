"""What the commands share, in one place: the API-client options (``check``, ``markets``, ``book``,
...), one-line errors, logging, and a server's clock.

Contract:
- Declare the options with the ``Annotated`` aliases below (``EnvOption``, ``ApiUrlOption``,
  ``KeyIdOption``, ``KeyFileOption``, ``DataDirOption``, ``ConfigOption``) and turn them into
  ``Settings`` with ``client_settings(...)``: command-line values win over environment variables
  (``KALSHI_TRADER_API__URL`` ...), which win over the ``--config`` TOML file, which wins over the
  defaults (``sim`` on ``http://127.0.0.1:8765/trade-api/v2``, key files in ``./data``).
- ``--env`` picks Kalshi's production or demo hosts or the embedded exchange; given alone it also
  drops a REST/WS URL configured elsewhere. ``--api-url`` (a REST base ending in ``/trade-api/v2``)
  overrides the environment. ``--key-id``/``--key-file`` name the API key; against the embedded
  exchange (``sim`` or an explicit URL) the key defaults to the data dir's ``api-key-id`` and
  ``api-key.pem``.
- Any unusable value (missing config file, bad URL, unknown tier, invalid setting) raises ``ClientOptionsError``
  whose message is one line for the user; the command prints it and exits 2. Nothing here prints
  or returns key material.
- ``@client_options()`` (below ``@app.command()``) gives a command those options in place of its
  ``settings: Settings`` parameter (Typer shows them there; ``client_options("config", "data_dir")``
  gives only those) and calls it with ``client_settings`` of them, after printing an unusable
  value as one line and exiting 2.
- ``fail(message, code)`` prints ``kalshi-trader: error: <message>`` on stderr and exits ``code``;
  ``with user_errors(Failure(KindError, code, "prefix"), ...)`` does so for the exceptions the
  rules name (the first that matches: ``prefix: <error>``, or the error alone; a pydantic
  ``ValidationError`` reads ``invalid <setting>: <why>``, an ``OSError`` its ``strerror``) and
  for Ctrl-C (``interrupted``, exit 1; or ``stopped``: that line and exit 0). Anything else
  passes through.
- ``quiet_logging()`` sends the library's structured logs to stderr at warning level, so a
  command's stdout holds only its own output (``stderr_logging(level)`` at another level).
- ``ServerClock`` is "now" as a server tells it: the ``Date`` header (+ ``Age``) of its latest
  response, carried forward on the local clock; the local clock until one has been seen. The
  embedded exchange's simulated NWS dates its responses by the simulated clock, so a command
  that takes "now" from it works in market time; real services date theirs by the wall clock.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, NoReturn, TypeVar
from urllib.parse import urlsplit

import structlog
import typer
from pydantic import ValidationError

from kalshi_trader.config import Settings, load_settings
from kalshi_trader.kalshi.limits import tier_named

if TYPE_CHECKING:
    import aiohttp

PROG = "kalshi-trader"
R = TypeVar("R")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one error line on stderr and exit with ``code``."""
    typer.echo(f"{PROG}: error: {message}", err=True)
    raise typer.Exit(code)


class ApiEnv(StrEnum):
    SIM = "sim"
    DEMO = "demo"
    PROD = "prod"


def _option(flag: str, help_text: str, **kw: Any) -> Any:
    return typer.Option(flag, help=help_text, show_default=False, **kw)


EnvOption = Annotated[
    ApiEnv | None,
    _option(
        "--env", "sim (the embedded exchange), demo or prod [default: from the config, else sim].", case_sensitive=False
    ),
]
ApiUrlOption = Annotated[
    str | None, _option("--api-url", "REST base URL, e.g. http://127.0.0.1:8765/trade-api/v2 (overrides --env).")
]
KeyIdOption = Annotated[
    str | None, _option("--key-id", "API key id [default: KALSHI_TRADER_API__KEY_ID; sim: DATA_DIR/api-key-id].")
]
KeyFileOption = Annotated[
    Path | None, _option("--key-file", "Ed25519 or RSA private key (PEM, mode 600) [default: DATA_DIR/api-key.pem].")
]
DataDirOption = Annotated[
    Path | None, _option("--data-dir", "Directory of the embedded exchange's key files [default: ./data].")
]
ConfigOption = Annotated[
    Path | None, _option("--config", "TOML settings file (same keys as KALSHI_TRADER_* variables).")
]
_CLIENT_OPTIONS: dict[str, Any] = {
    "env": EnvOption,
    "api_url": ApiUrlOption,
    "key_id": KeyIdOption,
    "key_file": KeyFileOption,
    "data_dir": DataDirOption,
    "config": ConfigOption,
}


class ClientOptionsError(ValueError):
    """The client options cannot be used; the message is one line for the user."""


def _check_url(url: str, source: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ClientOptionsError(f"{source} {url!r} is not an http(s) URL such as http://127.0.0.1:8765/trade-api/v2")


def client_settings(
    *,
    env: ApiEnv | str | None = None,
    api_url: str | None = None,
    key_id: str | None = None,
    key_file: Path | None = None,
    data_dir: Path | None = None,
    config: Path | None = None,
) -> Settings:
    """``Settings`` for an API client from the shared command-line options (see the module docstring)."""
    api: dict[str, Any] = {}
    if env is not None:
        api.update(env=str(env), url=None, ws_url=None)
    if api_url is not None:
        _check_url(api_url, "--api-url")
        api["url"] = api_url
    if key_id is not None:
        api["key_id"] = key_id
    if key_file is not None:
        api["key_file"] = key_file
    overrides: dict[str, Any] = {"api": api} if api else {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    try:
        settings = load_settings(config, **overrides)
    except FileNotFoundError as exc:
        raise ClientOptionsError(str(exc)) from None
    except ValidationError as exc:
        raise ClientOptionsError(validation_message(exc)) from None
    except ValueError as exc:  # e.g. a malformed TOML file
        raise ClientOptionsError(f"cannot read settings: {exc}") from None
    if settings.api.url:
        _check_url(settings.api.url, "api.url")
    try:
        tier_named(settings.api.tier)
    except ValueError as exc:
        raise ClientOptionsError(f"invalid api.tier: {exc}") from None
    return settings


def validation_message(exc: ValidationError) -> str:
    """A settings ``ValidationError`` as one line: ``invalid <setting>: <why>`` (its first error)."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "settings"
    return f"invalid {where}: {first['msg']}"


def client_options(*names: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Give a command the shared options ``names`` (default: all six, in ``_CLIENT_OPTIONS`` order)
    where its ``settings: Settings`` parameter stands, and call it with ``client_settings`` of them;
    an unusable value is one error line and exit 2 before the command runs (module docstring)."""
    chosen = names or tuple(_CLIENT_OPTIONS)

    def decorate(command: Callable[..., R]) -> Callable[..., R]:
        signature = inspect.signature(command, eval_str=True)
        keyword = inspect.Parameter.KEYWORD_ONLY  # Typer passes every parameter by keyword
        params: list[inspect.Parameter] = []
        for param in signature.parameters.values():
            if param.name == "settings":
                params += [inspect.Parameter(n, keyword, default=None, annotation=_CLIENT_OPTIONS[n]) for n in chosen]
            else:
                params.append(param.replace(kind=keyword))

        @functools.wraps(command)
        def with_settings(**kwargs: Any) -> R:
            options = {n: kwargs.pop(n) for n in chosen}
            with user_errors(Failure(ClientOptionsError, 2)):
                settings = client_settings(**options)
            return command(settings=settings, **kwargs)

        with_settings.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        with_settings.__annotations__ = {p.name: p.annotation for p in params}
        return with_settings

    return decorate


class Failure(NamedTuple):
    """Inside ``user_errors``: ``kinds`` end the command with one line (``prefix: <error>``, or the
    error alone) and exit ``code``."""

    kinds: type[BaseException] | tuple[type[BaseException], ...]
    code: int
    prefix: str = ""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return validation_message(exc)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


class _UserErrors:
    def __init__(self, rules: tuple[Failure, ...], interrupted: str, stopped: str | None) -> None:
        self._rules, self._interrupted, self._stopped = rules, interrupted, stopped

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None or isinstance(exc, typer.Exit):
            return
        if isinstance(exc, KeyboardInterrupt):
            if self._stopped is None:
                fail(self._interrupted, 1)
            typer.echo(self._stopped, err=True)
            raise typer.Exit(0)
        for rule in self._rules:
            if isinstance(exc, rule.kinds):
                fail(f"{rule.prefix}: {_describe(exc)}" if rule.prefix else _describe(exc), rule.code)


def user_errors(*rules: Failure, interrupted: str = "interrupted", stopped: str | None = None) -> _UserErrors:
    """A context in which the exceptions ``rules`` name, and Ctrl-C, end the command with one line
    (module docstring); others pass through."""
    return _UserErrors(rules, interrupted, stopped)


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of the write (it may be replaced later,
    e.g. by a test runner's capture), never to a stream captured at configuration time."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def stderr_logging(level: int) -> None:
    """Library logs to stderr, ``level`` and above only."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
    )


def quiet_logging() -> None:
    """Library logs to stderr, warnings and above only."""
    stderr_logging(logging.WARNING)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def server_date(headers: Mapping[str, str]) -> datetime | None:
    """The time a response's headers say it is at the server: ``Date`` (RFC 9110 §6.6.1; whole
    seconds) plus ``Age`` when a cache served it (RFC 9111 §5.1); None if ``Date`` is missing or
    unparseable."""
    try:
        moment = parsedate_to_datetime(headers.get("Date", ""))
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    age = headers.get("Age", "").strip()
    return moment + timedelta(seconds=int(age)) if age.isascii() and age.isdigit() else moment


class ServerClock:
    """The time now by a server's clock (module docstring). Call it for the time; ``observe`` a response's
    headers, or hand ``trace_config()`` to an ``aiohttp.ClientSession`` to observe all of them."""

    def __init__(self, local: Callable[[], datetime] = _utc_now) -> None:
        self._local = local
        self._offset: timedelta | None = None

    @property
    def from_server(self) -> bool:
        """Whether a response has set the clock (else it is the local clock)."""
        return self._offset is not None

    def observe(self, headers: Mapping[str, str]) -> None:
        moment = server_date(headers)
        if moment is not None:
            self._offset = moment - self._local()

    def __call__(self) -> datetime:
        now = self._local()
        return now if self._offset is None else now + self._offset

    def trace_config(self) -> aiohttp.TraceConfig:
        import aiohttp

        async def on_request_end(_: Any, __: Any, params: aiohttp.TraceRequestEndParams) -> None:
            self.observe(params.response.headers)

        config = aiohttp.TraceConfig()
        config.on_request_end.append(on_request_end)
        return config
