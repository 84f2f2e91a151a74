"""One typed settings tree for kalshi-trader (pydantic-settings).

Contract: values come, highest priority first, from explicit arguments, environment variables
``KALSHI_TRADER_<SECTION>__<FIELD>`` (e.g. ``KALSHI_TRADER_EXCHANGE__PORT=9000``), a TOML file
(``--config``), then the defaults below. Secrets (key files) are referenced by path, never stored
here. This module imports nothing of the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KALSHI_TRADER_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = DEFAULT_DATA_DIR
    exchange: ExchangeSettings = ExchangeSettings()

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
