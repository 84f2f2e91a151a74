"""The options every API-client command shares (``check``, ``markets``, ``book``, ...): one place.

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
- ``quiet_logging()`` sends the library's structured logs to stderr at warning level, so a
  command's stdout holds only its own output.
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import structlog
import typer
from pydantic import ValidationError

from kalshi_trader.config import Settings, load_settings
from kalshi_trader.kalshi.limits import tier_named


class ApiEnv(StrEnum):
    SIM = "sim"
    DEMO = "demo"
    PROD = "prod"


EnvOption = Annotated[
    ApiEnv | None,
    typer.Option(
        "--env",
        help="sim (the embedded exchange), demo or prod [default: from the config, else sim].",
        case_sensitive=False,
        show_default=False,
    ),
]
ApiUrlOption = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        help="REST base URL, e.g. http://127.0.0.1:8765/trade-api/v2 (overrides --env).",
        show_default=False,
    ),
]
KeyIdOption = Annotated[
    str | None,
    typer.Option(
        "--key-id",
        help="API key id [default: KALSHI_TRADER_API__KEY_ID; sim: DATA_DIR/api-key-id].",
        show_default=False,
    ),
]
KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file", help="RSA private key (PEM, mode 600) [default: DATA_DIR/api-key.pem].", show_default=False
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Directory of the embedded exchange's key files [default: ./data].", show_default=False
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML settings file (same keys as KALSHI_TRADER_* variables).", show_default=False),
]


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
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ClientOptionsError(f"invalid {where}: {first['msg']}") from None
    except ValueError as exc:  # e.g. a malformed TOML file
        raise ClientOptionsError(f"cannot read settings: {exc}") from None
    if settings.api.url:
        _check_url(settings.api.url, "api.url")
    try:
        tier_named(settings.api.tier)
    except ValueError as exc:
        raise ClientOptionsError(f"invalid api.tier: {exc}") from None
    return settings


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of the write (it may be replaced later,
    e.g. by a test runner's capture), never to a stream captured at configuration time."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def quiet_logging() -> None:
    """Library logs to stderr, warnings and above only."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
    )
