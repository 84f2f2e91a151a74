"""One typed settings tree for kalshi-trader (pydantic-settings).

Contract: values come, highest priority first, from explicit arguments, environment variables
``KALSHI_TRADER_<SECTION>__<FIELD>`` (e.g. ``KALSHI_TRADER_EXCHANGE__PORT=9000``), a TOML file
(``--config``), then the defaults below. Secrets (key files) are referenced by path, never stored
here. This module imports nothing of the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
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
"""Kalshi's recommended production and demo hosts (kalshi-api.md section 1)."""


class ApiSettings(BaseModel):
    """Where the Kalshi client connects and with which key.

    ``url`` (the REST base, ending in ``/trade-api/v2``) overrides ``env``; ``ws_url`` defaults to
    the same host's ``/trade-api/ws/v2``. In ``sim`` the key defaults to the files the embedded
    exchange writes into the data dir (``api-key-id``, ``api-key.pem``)."""

    model_config = ConfigDict(extra="forbid")

    env: Env = "sim"
    url: str | None = None
    ws_url: str | None = None
    key_id: str | None = None
    key_file: Path | None = None
    tier: str = "basic"
    timeout_s: float = Field(10.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KALSHI_TRADER_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = DEFAULT_DATA_DIR
    exchange: ExchangeSettings = ExchangeSettings()
    api: ApiSettings = ApiSettings()

    def rest_url(self) -> str:
        """The REST base URL the client uses."""
        if self.api.url:
            return self.api.url.rstrip("/")
        if self.api.env == "sim":
            return f"http://{self.exchange.host}:{self.exchange.port}/trade-api/v2"
        return ENV_URLS[self.api.env][0]

    def ws_url(self) -> str:
        """The WebSocket URL the client uses."""
        if self.api.ws_url:
            return self.api.ws_url
        if self.api.url or self.api.env == "sim":
            rest = self.rest_url()
            scheme, rest_of = rest.split("://", 1)
            host = rest_of.split("/", 1)[0]
            return f"{'wss' if scheme == 'https' else 'ws'}://{host}/trade-api/ws/v2"
        return ENV_URLS[self.api.env][1]

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
