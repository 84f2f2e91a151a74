"""The ``nws`` settings section and where the fair-value client points in each mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kalshi_trader.config import NWS_DEFAULT_URL, NwsSettings, Settings


def test_defaults() -> None:
    nws = Settings().nws
    assert nws.base_url is None
    assert nws.user_agent.startswith("kalshi-trader/")
    assert (nws.max_retries, nws.timeout_s) == (3, 10.0)
    assert nws.points_ttl_s > nws.forecast_ttl_s > nws.observation_ttl_s > 0


def test_nws_url_by_mode() -> None:
    assert Settings().nws_url() == "http://127.0.0.1:8765/nws"  # sim: the embedded exchange
    assert Settings(exchange={"host": "0.0.0.0", "port": 9000}).nws_url() == "http://0.0.0.0:9000/nws"
    assert Settings(api={"url": "http://10.1.2.3:99/trade-api/v2"}).nws_url() == "http://10.1.2.3:99/nws"
    assert Settings(api={"env": "demo"}).nws_url() == NWS_DEFAULT_URL
    assert Settings(api={"env": "prod"}).nws_url() == "https://api.weather.gov"
    assert Settings(api={"env": "prod"}, nws={"base_url": "http://proxy:8/nws/"}).nws_url() == "http://proxy:8/nws"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_TRADER_NWS__USER_AGENT", "(myapp.example, ops@example.com)")
    monkeypatch.setenv("KALSHI_TRADER_NWS__MAX_RETRIES", "1")
    s = Settings()
    assert (s.nws.user_agent, s.nws.max_retries) == ("(myapp.example, ops@example.com)", 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [("user_agent", ""), ("user_agent", "a\r\nX-Evil: 1"), ("max_retries", 4), ("timeout_s", 0), ("backoff_s", -1)],
)
def test_bad_values_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        NwsSettings(**{field: value})
