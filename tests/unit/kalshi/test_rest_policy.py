"""The REST client's pure parts: backoff, query encoding, where its key comes from."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kalshi_trader.config import Settings
from kalshi_trader.kalshi.auth import KeyFileError, generate_private_key, write_private_key
from kalshi_trader.kalshi.rest import KalshiRest, RetryPolicy, encode_query, signer_from_settings


def test_backoff_is_exponential_jittered_and_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=1.0)
    rng = random.Random(7)
    for retry, ceiling in ((0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (9, 1.0)):
        delays = [policy.delay_s(retry, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not fixed


def test_query_encoding() -> None:
    assert encode_query({"a": None, "b": True, "c": False, "d": 5, "e": "x", "f": ["A", "B"]}) == {
        "b": "true",
        "c": "false",
        "d": "5",
        "e": "x",
        "f": "A,B",
    }


def _key_dir(tmp_path: Path) -> Path:
    write_private_key(generate_private_key(), tmp_path / "api-key.pem")
    (tmp_path / "api-key-id").write_text("sim-key\n")
    return tmp_path


def test_sim_and_explicit_urls_fall_back_to_the_data_dir_key(tmp_path: Path) -> None:
    data = _key_dir(tmp_path)
    sim = signer_from_settings(Settings(data_dir=data))
    assert sim is not None
    assert sim.key_id == "sim-key"
    custom = Settings.model_validate(
        {"data_dir": data, "api": {"env": "prod", "url": "http://127.0.0.1:1/trade-api/v2"}}
    )
    assert signer_from_settings(custom) is not None


def test_demo_and_prod_never_borrow_the_sim_key(tmp_path: Path) -> None:
    data = _key_dir(tmp_path)
    for env in ("demo", "prod"):
        settings = Settings.model_validate({"data_dir": data, "api": {"env": env}})
        assert signer_from_settings(settings) is None
        with pytest.raises(KeyFileError, match="no API key id"):
            signer_from_settings(settings, required=True)


def test_configured_key_with_missing_file_is_refused(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {"data_dir": tmp_path, "api": {"env": "demo", "key_id": "k", "key_file": str(tmp_path / "nope.pem")}}
    )
    with pytest.raises(KeyFileError, match="does not exist"):
        signer_from_settings(settings)


def test_client_rejects_bad_urls_and_tiers_and_hides_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an http"):
        KalshiRest("external-api.kalshi.com/trade-api/v2")
    with pytest.raises(ValueError, match="unknown rate-limit tier"):
        KalshiRest("https://h/trade-api/v2", tier="gold")
    client = KalshiRest.from_settings(Settings(data_dir=_key_dir(tmp_path)))
    assert repr(client) == "KalshiRest('http://127.0.0.1:8765/trade-api/v2', key_id='sim-key', tier='basic')"
    assert "PRIVATE" not in repr(client.signer)
