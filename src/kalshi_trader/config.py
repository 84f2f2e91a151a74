"""One typed settings tree for kalshi-trader (pydantic-settings).

Contract: values come, highest priority first, from explicit arguments, environment variables
``KALSHI_TRADER_<SECTION>__<FIELD>`` (e.g. ``KALSHI_TRADER_EXCHANGE__PORT=9000``), a TOML file
(``--config``), then the defaults below. Key files are referenced by path, never stored here; the
one secret held (``api.key_passphrase``) is a ``SecretStr``, masked in every ``repr``. This module
imports nothing of the project.
"""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATA_DIR = Path("data")


class ExchangeSettings(BaseModel):
    """The embedded exchange."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    seed: int = 1
    starting_balance_dollars: int = Field(10_000, ge=0)
    all_weather_series: bool = False
    """List every daily temperature series Kalshi lists (20 highs, 20 lows) instead of the lighter
    default set (seven highs, three lows)."""


class PaperSettings(BaseModel):
    """Paper trading (``run --env paper``): Kalshi's market data, orders matched locally."""

    model_config = ConfigDict(extra="forbid")

    starting_balance_dollars: int = Field(10_000, ge=0)
    """Cash of a new paper account (its record, ``DATA_DIR/paper-venue.db``, keeps it after that)."""


Env = Literal["sim", "demo", "prod"]

ENV_URLS: dict[str, tuple[str, str]] = {
    "prod": (
        "https://external-api.kalshi.com/trade-api/v2",
        "wss://external-api-ws.kalshi.com/trade-api/ws/v2",
    ),
    "demo": (
        "https://external-api.demo.kalshi.co/trade-api/v2",
        "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2",
    ),
}
"""Kalshi's recommended production and demo endpoints (REST, WebSocket): the dedicated
``external-api`` hosts of Kalshi's "API Environments and Endpoints" page."""
SHARED_ENV_URLS: dict[str, tuple[str, str]] = {
    "prod": ("https://api.elections.kalshi.com/trade-api/v2", "wss://api.elections.kalshi.com/trade-api/ws/v2"),
    "demo": ("https://demo-api.kalshi.co/trade-api/v2", "wss://demo-api.kalshi.co/trade-api/ws/v2"),
}
"""The shared hosts Kalshi also supports (``api.url`` may name them)."""
_KALSHI_WS = {rest: ws for rest, ws in (*ENV_URLS.values(), *SHARED_ENV_URLS.values())}


class ApiSettings(BaseModel):
    """Where the Kalshi client connects and with which key.

    ``url`` (the REST base, ending in ``/trade-api/v2``) overrides ``env``; ``ws_url`` defaults to
    the same host's ``/trade-api/ws/v2``. In ``sim`` the key defaults to the files the embedded
    exchange writes into the data dir (``api-key-id``, ``api-key.pem``). The key file is an Ed25519
    or RSA private key (PEM); ``key_passphrase`` unlocks an encrypted one."""

    model_config = ConfigDict(extra="forbid")

    env: Env = "sim"
    url: str | None = None
    ws_url: str | None = None
    key_id: str | None = None
    key_file: Path | None = None
    key_passphrase: SecretStr | None = None
    """The key file's passphrase when it is encrypted; a secret: never logged or shown."""
    tier: str = "basic"
    timeout_s: float = Field(10.0, gt=0)


NWS_DEFAULT_URL = "https://api.weather.gov"
"""The real NWS API (used outside sim unless ``nws.base_url`` says otherwise)."""
NWS_SIM_PREFIX = "/nws"
"""Where the embedded exchange mounts its api.weather.gov-compatible endpoints."""


class NwsSettings(BaseModel):
    """The NWS (api.weather.gov) client used by fair value (``fairvalue/nws.py``).

    ``base_url`` overrides where requests go; unset, it is the embedded exchange's NWS endpoints
    (``http://{exchange.host}:{exchange.port}/nws``) in ``sim`` and ``https://api.weather.gov``
    otherwise (``Settings.nws_url``). NWS requires a ``User-Agent`` naming the app and a contact;
    set ``user_agent`` to yours. ``max_retries`` (≤ 3) bounds retries of 5xx/429/timeouts;
    ``*_ttl_s`` are client-side cache lifetimes (``/points`` rarely changes); ``*_stale_s`` are
    the ages beyond which a forecast's ``updateTime`` or an observation's ``timestamp`` is
    flagged stale; ``max_requests_per_s`` is the request budget (per real second: an expired
    cached answer is served rather than exceed it)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    user_agent: str = Field(
        "kalshi-trader/0.1 (set nws.user_agent to your contact)", min_length=1, pattern=r"^[^\r\n]+$"
    )
    timeout_s: float = Field(10.0, gt=0)
    max_retries: int = Field(3, ge=0, le=3)
    backoff_s: float = Field(0.5, ge=0)
    points_ttl_s: float = Field(7 * 86_400.0, ge=0)
    forecast_ttl_s: float = Field(300.0, ge=0)
    observation_ttl_s: float = Field(60.0, ge=0)
    forecast_stale_s: float = Field(6 * 3_600.0, gt=0)
    observation_stale_s: float = Field(2 * 3_600.0, gt=0)
    max_requests_per_s: float = Field(10.0, gt=0, le=1_000)


class FairValueSettings(BaseModel):
    """How the weather fair value respects the market (``fairvalue.blend``): the NWS model's
    probability and the market mid pooled on log-odds, the model's weight by hours to the close
    (pairs ``[hours, weight]``, hours increasing, weights 0..1, linear in between, flat outside;
    ``[[0, 1]]`` = the model alone) — ``model_weight_by_hours`` for daily highs,
    ``low_model_weight_by_hours`` for daily lows. The defaults are fitted on the simulated world by
    ``bench/fit_blend.py`` (bench/RESULTS.md)."""

    model_config = ConfigDict(extra="forbid")

    model_weight_by_hours: tuple[tuple[float, float], ...] = Field(
        ((4.0, 1.0), (6.0, 0.6), (9.0, 0.0)),
        min_length=1,
    )
    low_model_weight_by_hours: tuple[tuple[float, float], ...] = Field(
        ((12.0, 0.25), (18.0, 0.35), (24.0, 0.0)),
        min_length=1,
    )

    @field_validator("model_weight_by_hours", "low_model_weight_by_hours")
    @classmethod
    def _knots(cls, knots: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        hours = [h for h, _ in knots]
        if any(b <= a for a, b in itertools.pairwise(hours)) or any(h < 0 for h in hours):
            raise ValueError("hours must be non-negative and strictly increasing")
        if any(not 0.0 <= w <= 1.0 for _, w in knots):
            raise ValueError("weights must be within 0..1")
        return knots


Contracts = Annotated[Decimal, Field(gt=0, le=10_000_000, decimal_places=2)]
"""A contract count: an int or a decimal string (``"2.5"``), at most 2 decimals (Kalshi's 0.01)."""
Dollars = Annotated[Decimal, Field(gt=0, le=1_000_000_000, decimal_places=4)]
"""A dollar amount: an int or a decimal string (``"250.50"``), at most 4 decimals ($0.0001). It is
kept as a ``Decimal`` and converted exactly (``risk.limits``); more decimals are an error, never rounded."""
PriceBound = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]
"""A per-contract price distance in dollars, $0 .. $1."""
Seconds = Annotated[float, Field(gt=0, le=86_400)]


class RiskSettings(BaseModel):
    """Pre-trade limits and circuit breakers; ``src/kalshi_trader/risk/GUARDS.md`` explains each."""

    model_config = ConfigDict(extra="forbid")

    max_order_size: Contracts = Decimal(100)
    max_position_per_market: Contracts = Decimal(500)
    """Contracts, worst case: the position if every resting order on one side filled."""
    max_event_exposure_dollars: Dollars = Decimal(250)
    """Worst-case loss summed over the markets of one event (brackets of one event are one risk)."""
    max_total_exposure_dollars: Dollars = Decimal(1_000)
    max_open_orders: int = Field(150, gt=0, le=200_000)
    """Orders resting or in flight: the market maker's quotes (capped by its own
    ``max_open_quotes``; up to 84 weather brackets are open at once in the simulated world) plus the
    favourite's entries, take-profits and exits."""
    daily_loss_limit_dollars: Dollars = Decimal(100)
    """Realized + unrealized − fees since the trading day (midnight New York, market time) started;
    reaching it halts new risk until the next trading day or a reset by hand."""
    max_writes_per_second: int = Field(5, gt=0, le=10_000)
    """Places and amends per second (cancels are never limited)."""
    max_through_book_dollars: PriceBound = Decimal("0.05")
    """How far a buy may be priced beyond the opposite best price."""
    max_fair_value_deviation_dollars: PriceBound = Decimal("0.10")
    """How much worse than a given fair value an order may be priced."""
    max_book_age_s: Seconds = 5.0
    max_consecutive_errors: int = Field(5, gt=0)
    error_cooldown_s: Seconds = 60.0
    loss_velocity_limit_dollars: Dollars = Decimal(50)
    loss_velocity_window_s: Seconds = 300.0
    """The loss-velocity window, in market time (the simulated clock in sim)."""
    loss_velocity_cooldown_s: Seconds = 900.0
    """The loss-velocity breaker resets itself after this much market time."""
    feed_stale_s: Seconds = 10.0
    """The market-data feed down (or silent) this long trips the feed breaker."""


_URL_START = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.\-]*://)")


class AlertsSettings(BaseModel):
    """Where alerts go (Apprise URLs: ``tgram://``, ``slack://``, ``discord://``, ``mailto://``,
    ``ntfy://``, ``json://`` …) and how often. ``urls`` are secrets (tokens live in them): shown
    only redacted. In ``KALSHI_TRADER_ALERTS__URLS`` give a JSON list or the URLs separated by
    spaces or commas. No URL: no alerts."""

    model_config = ConfigDict(extra="forbid")

    urls: Annotated[list[SecretStr], NoDecode] = []
    fills: bool = False
    """Also send one alert per fill."""
    daily_summary: bool = True
    """When the trading day turns (midnight New York, market time): the day's P&L, fills, exposure."""
    coalesce_s: float = Field(60.0, ge=0)
    """Alerts about the same thing (a flapping feed, one breaker) within this many seconds become one
    message carrying the latest state."""
    max_per_hour: int = Field(30, ge=1)
    """At most this many messages an hour (up to 5 at once); more wait, merged by subject."""
    rejections: int = Field(3, ge=1)
    """Alert when the exchange rejects this many orders within ``rejections_window_s``."""
    rejections_window_s: float = Field(60.0, gt=0)
    timeout_s: float = Field(10.0, gt=0)
    """Per destination and message; also how long a stopping node waits for the last alerts."""

    @field_validator("urls", mode="before")
    @classmethod
    def _split_urls(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [u for u in _URL_START.split(text) if u.strip()]
        return value


class StoreSettings(BaseModel):
    """Where the record (orders, fills, positions, P&L, audit log) is kept.

    ``url`` is a database URL (``KALSHI_TRADER_STORE__URL``): ``postgresql://user:pw@host:5432/db``
    (``postgres://`` as copied from Supabase works too) or ``sqlite:///path``; unset means SQLite at
    ``DATA_DIR/kalshi-trader.db``. It may hold a password, so it is left out of ``repr``."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, repr=False)
    echo: bool = False


Probability = Annotated[Decimal, Field(gt=0, lt=1, decimal_places=4)]
"""A probability / YES price strictly between $0 and $1 (``"0.85"``), at most 4 decimals."""
Count = Annotated[Decimal, Field(ge=0, le=10_000_000, decimal_places=2)]
"""A contract count that may be zero."""
Duration = Annotated[float, Field(ge=0, le=366 * 86_400)]
"""Seconds, zero allowed (time-to-close windows run to days)."""
Share = Annotated[Decimal, Field(ge=0, le=1, decimal_places=2)]
"""A fraction 0..1 in hundredths."""


StrategySections = dict[str, dict[str, Any]]
"""``strategies.<name>``: one section per strategy, by the name the strategy registry gives it
(``strategy.registry``). This module knows no strategy: each section is validated against the
strategy's own settings model when a strategy is built (an unknown name or field is refused then),
and ``config show`` lists every registered strategy with its defaults."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KALSHI_TRADER_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = DEFAULT_DATA_DIR
    exchange: ExchangeSettings = ExchangeSettings()
    paper: PaperSettings = PaperSettings()
    api: ApiSettings = ApiSettings()
    nws: NwsSettings = NwsSettings()
    fair_value: FairValueSettings = FairValueSettings()
    store: StoreSettings = StoreSettings()
    risk: RiskSettings = RiskSettings()
    strategies: StrategySections = {}
    alerts: AlertsSettings = AlertsSettings()

    def rest_url(self) -> str:
        """The REST base URL the client uses."""
        if self.api.url:
            return self.api.url.rstrip("/")
        if self.api.env == "sim":
            return f"http://{self.exchange.host}:{self.exchange.port}/trade-api/v2"
        return ENV_URLS[self.api.env][0]

    def ws_url(self) -> str:
        """The WebSocket URL the client uses: ``api.ws_url``; else Kalshi's own for one of its REST
        URLs (the recommended REST host ``external-api`` pairs with ``external-api-ws``); else the
        REST URL's host at ``/trade-api/ws/v2``."""
        if self.api.ws_url:
            return self.api.ws_url
        if self.api.url or self.api.env == "sim":
            rest = self.rest_url()
            if rest in _KALSHI_WS:
                return _KALSHI_WS[rest]
            scheme, rest_of = rest.split("://", 1)
            host = rest_of.split("/", 1)[0]
            return f"{'wss' if scheme == 'https' else 'ws'}://{host}/trade-api/ws/v2"
        return ENV_URLS[self.api.env][1]

    def nws_url(self) -> str:
        """The NWS API base URL the fair-value client uses (no trailing slash)."""
        if self.nws.base_url:
            return self.nws.base_url.rstrip("/")
        if self.api.env == "sim":  # the embedded exchange serving the Kalshi REST API serves NWS too
            scheme, rest_of = self.rest_url().split("://", 1)
            return f"{scheme}://{rest_of.split('/', 1)[0]}{NWS_SIM_PREFIX}"
        return NWS_DEFAULT_URL

    def key_id_file(self) -> Path:
        return self.data_dir / "api-key-id"

    def key_file(self) -> Path:
        """The private key file: configured, else the embedded exchange's file in the data dir."""
        return self.api.key_file if self.api.key_file is not None else self.data_dir / "api-key.pem"

    def key_id(self) -> str | None:
        """The API key id: configured, else read from the data dir's ``api-key-id`` if present."""
        if self.api.key_id:
            return self.api.key_id.strip()
        path = self.key_id_file()
        return path.read_text().strip() if path.is_file() else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``config_file`` (TOML) plus environment plus ``overrides``."""
    if config_file is not None and not config_file.is_file():
        raise FileNotFoundError(f"config file {config_file} does not exist")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=config_file)

    return _FromFile(**overrides) if config_file is not None else Settings(**overrides)
