"""The shared client options: precedence (flags > environment > config file > defaults) and
one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kalshi_trader.cli_client import ApiEnv, ClientOptionsError, client_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [n for n in os.environ if n.startswith("KALSHI_TRADER_")]:
        monkeypatch.delenv(name)


def test_defaults_are_the_embedded_exchange() -> None:
    settings = client_settings()
    assert settings.rest_url() == "http://127.0.0.1:8765/trade-api/v2"
    assert settings.data_dir == Path("data")


def test_flags_beat_environment_beat_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "k.toml"
    config.write_text('[api]\nenv = "demo"\nkey_id = "from-file"\ntier = "premier"\n')
    from_file = client_settings(config=config)
    assert (from_file.api.env, from_file.api.key_id, from_file.api.tier) == ("demo", "from-file", "premier")
    monkeypatch.setenv("KALSHI_TRADER_API__KEY_ID", "from-env")
    assert client_settings(config=config).api.key_id == "from-env"
    flagged = client_settings(config=config, key_id="from-flag", key_file=tmp_path / "k.pem", data_dir=tmp_path)
    assert (flagged.api.key_id, flagged.api.key_file, flagged.data_dir) == ("from-flag", tmp_path / "k.pem", tmp_path)
    assert flagged.api.tier == "premier"  # untouched by the flags


def test_env_flag_drops_a_configured_url_and_api_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_TRADER_API__URL", "http://127.0.0.1:1/trade-api/v2")
    assert client_settings().rest_url() == "http://127.0.0.1:1/trade-api/v2"
    assert client_settings(env=ApiEnv.PROD).rest_url() == "https://external-api.kalshi.com/trade-api/v2"
    both = client_settings(env="demo", api_url="http://127.0.0.1:2/trade-api/v2")
    assert both.rest_url() == "http://127.0.0.1:2/trade-api/v2"
    assert both.ws_url() == "ws://127.0.0.1:2/trade-api/ws/v2"


@pytest.mark.parametrize(
    ("kwargs", "env", "needle"),
    [
        ({"api_url": "127.0.0.1:8765"}, {}, "--api-url '127.0.0.1:8765' is not an http"),
        ({}, {"KALSHI_TRADER_API__URL": "nope"}, "api.url 'nope' is not an http"),
        ({}, {"KALSHI_TRADER_API__TIER": "gold"}, "invalid api.tier: unknown rate-limit tier 'gold'"),
        ({}, {"KALSHI_TRADER_API__TIMEOUT_S": "-1"}, "invalid api.timeout_s"),
        ({"config": Path("/nonexistent/k.toml")}, {}, "does not exist"),
    ],
)
def test_unusable_options_are_one_line(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, object], env: dict[str, str], needle: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ClientOptionsError, match=needle) as info:
        client_settings(**kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_malformed_config_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[api\n")
    with pytest.raises(ClientOptionsError, match="cannot read settings"):
        client_settings(config=config)
