"""Settings precedence: explicit > environment > TOML file > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kalshi_trader.config import Settings, load_settings


def test_defaults() -> None:
    s = Settings()
    assert s.exchange.host == "127.0.0.1"
    assert s.exchange.port == 8765


def test_env_overrides_file_and_explicit_overrides_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "kt.toml"
    cfg.write_text('data_dir = "from-file"\n[exchange]\nport = 9001\nseed = 7\n')
    assert load_settings(cfg).exchange.port == 9001
    monkeypatch.setenv("KALSHI_TRADER_EXCHANGE__PORT", "9002")
    s = load_settings(cfg)
    assert (s.exchange.port, s.exchange.seed, str(s.data_dir)) == (9002, 7, "from-file")
    assert load_settings(cfg, data_dir=Path("explicit")).data_dir == Path("explicit")


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_TRADER_EXCHANGE__PORT", "70000")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_unknown_keys_are_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / "kt.toml"
    cfg.write_text("[exchange]\nprot = 1\n")
    with pytest.raises(ValidationError, match="prot"):
        load_settings(cfg)


def test_endpoints_per_env(tmp_path: Path) -> None:
    sim = Settings(data_dir=tmp_path)
    assert sim.rest_url() == "http://127.0.0.1:8765/trade-api/v2"
    assert sim.ws_url() == "ws://127.0.0.1:8765/trade-api/ws/v2"
    demo = Settings.model_validate({"api": {"env": "demo"}})
    assert demo.rest_url() == "https://external-api.demo.kalshi.co/trade-api/v2"
    assert demo.ws_url() == "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"
    custom = Settings.model_validate({"api": {"env": "prod", "url": "https://example.test:9/trade-api/v2/"}})
    assert custom.rest_url() == "https://example.test:9/trade-api/v2"
    assert custom.ws_url() == "wss://example.test:9/trade-api/ws/v2"


@pytest.mark.parametrize(
    ("url", "ws"),
    [
        ("https://external-api.kalshi.com/trade-api/v2", "wss://external-api-ws.kalshi.com/trade-api/ws/v2"),
        ("https://external-api.demo.kalshi.co/trade-api/v2/", "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"),
        ("https://api.elections.kalshi.com/trade-api/v2", "wss://api.elections.kalshi.com/trade-api/ws/v2"),
        ("https://demo-api.kalshi.co/trade-api/v2", "wss://demo-api.kalshi.co/trade-api/ws/v2"),
    ],
)
def test_kalshi_rest_urls_pair_with_kalshi_websocket_urls(url: str, ws: str) -> None:
    """Kalshi's hosts (recommended and also supported): the external-api REST host's WebSocket is on
    another host (external-api-ws), so it cannot be derived from the REST URL."""
    assert Settings.model_validate({"api": {"url": url}}).ws_url() == ws


def test_sim_key_defaults_to_the_exchange_files(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.key_id() is None
    (tmp_path / "api-key-id").write_text("abc-123\n")
    assert s.key_id() == "abc-123"
    assert s.key_file() == tmp_path / "api-key.pem"


def test_alert_urls_from_the_environment_as_a_list_or_separated_and_never_in_a_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, two = "tgram://123456:AAHsecret/42", "json://127.0.0.1:9/hook?a=1,2"
    monkeypatch.setenv("KALSHI_TRADER_ALERTS__URLS", f"{one}, {two}")
    urls = Settings().alerts.urls
    assert [u.get_secret_value() for u in urls] == [one, two]  # a comma inside a URL stays in it
    monkeypatch.setenv("KALSHI_TRADER_ALERTS__URLS", f'["{one}"]')
    settings = Settings()
    assert [u.get_secret_value() for u in settings.alerts.urls] == [one]
    assert "AAHsecret" not in repr(settings)


def test_paper_starting_cash_from_the_file_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().paper.starting_balance_dollars == 10_000
    config = tmp_path / "c.toml"
    config.write_text("[paper]\nstarting_balance_dollars = 2500\n")
    assert load_settings(config).paper.starting_balance_dollars == 2_500
    monkeypatch.setenv("KALSHI_TRADER_PAPER__STARTING_BALANCE_DOLLARS", "750")
    assert load_settings(config).paper.starting_balance_dollars == 750
    monkeypatch.setenv("KALSHI_TRADER_PAPER__STARTING_BALANCE_DOLLARS", "-1")
    with pytest.raises(ValidationError):
        load_settings()
