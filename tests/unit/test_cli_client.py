"""The shared client options: precedence (flags > environment > config file > defaults) and
one-line errors; ``user_errors``, ``client_options`` and the server's clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from kalshi_trader.cli_client import (
    ApiEnv,
    ClientOptionsError,
    Failure,
    ServerClock,
    client_options,
    client_settings,
    server_date,
    user_errors,
)
from kalshi_trader.config import Settings


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


# -- one-line errors --------------------------------------------------------------------------


def ended(capsys: pytest.CaptureFixture[str], body: Callable[[], object]) -> tuple[int, str]:
    """(exit code, the stderr line) of ``body`` ending the command."""
    with pytest.raises(typer.Exit) as info:
        body()
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return info.value.exit_code, err.rstrip("\n")


def raising(exc: BaseException, *rules: Failure, **kw: Any) -> Callable[[], None]:
    def body() -> None:
        with user_errors(*rules, **kw):
            raise exc

    return body


def test_user_errors_map_the_first_matching_rule_to_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    rules = (Failure(KeyError, 2), Failure(LookupError, 1, "cannot look up"), Failure(ValueError, 1, "bad"))
    assert ended(capsys, raising(KeyError("k"), *rules)) == (2, "kalshi-trader: error: 'k'")
    assert ended(capsys, raising(IndexError("i"), *rules)) == (1, "kalshi-trader: error: cannot look up: i")
    refused = OSError(98, "Address already in use")
    assert ended(capsys, raising(refused, Failure(OSError, 1, "cannot listen on h:1"))) == (
        1,
        "kalshi-trader: error: cannot listen on h:1: Address already in use",
    )
    with pytest.raises(ValidationError) as invalid:
        Settings(api={"timeout_s": -1})
    assert ended(capsys, raising(invalid.value, Failure(ValidationError, 2))) == (
        2,
        "kalshi-trader: error: invalid api.timeout_s: Input should be greater than 0",
    )
    with pytest.raises(RuntimeError):  # not named: passes through untouched
        raising(RuntimeError("bug"), *rules)()
    with pytest.raises(typer.Exit) as exited:  # an exit on the way out is not an error
        raising(typer.Exit(3), Failure(RuntimeError, 1))()
    assert exited.value.exit_code == 3
    assert capsys.readouterr().err == ""


def test_ctrl_c_is_interrupted_or_a_clean_stop(capsys: pytest.CaptureFixture[str]) -> None:
    assert ended(capsys, raising(KeyboardInterrupt())) == (1, "kalshi-trader: error: interrupted")
    assert ended(capsys, raising(KeyboardInterrupt(), interrupted="stopped halfway")) == (
        1,
        "kalshi-trader: error: stopped halfway",
    )
    assert ended(capsys, raising(KeyboardInterrupt(), stopped="Stopped.")) == (0, "Stopped.")


def test_client_options_stand_in_for_the_settings_parameter(tmp_path: Path) -> None:
    app = typer.Typer()
    seen: dict[str, object] = {}

    @app.command()
    @client_options("config", "data_dir")
    def show(name: str = typer.Option("x", "--name", help="A name."), *, settings: Settings) -> None:
        seen.update(name=name, data_dir=settings.data_dir)

    usage = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert [flag for flag in ("--name", "--config", "--data-dir", "--env") if flag in usage] == [
        "--name",
        "--config",
        "--data-dir",
    ]
    assert usage.index("--name") < usage.index("--config") < usage.index("--data-dir")
    ok = CliRunner().invoke(app, ["--name", "y", "--data-dir", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert seen == {"name": "y", "data_dir": tmp_path}
    bad = CliRunner().invoke(app, ["--config", str(tmp_path / "none.toml")])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("kalshi-trader: error: ")
    assert bad.stderr.count("\n") == 1
    assert "none.toml does not exist" in bad.stderr


# -- the server's clock -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Date": "Sat, 16 May 2026 14:30:00 GMT"}, datetime(2026, 5, 16, 14, 30, tzinfo=UTC)),
        ({"Date": "Sat, 16 May 2026 14:30:00 GMT", "Age": "90"}, datetime(2026, 5, 16, 14, 31, 30, tzinfo=UTC)),
        ({"Date": "Sat, 16 May 2026 14:30:00 -0000", "Age": "soon"}, datetime(2026, 5, 16, 14, 30, tzinfo=UTC)),
        ({"Date": "Sunday, 06-Nov-94 08:49:37 GMT"}, datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),  # RFC 850
        ({"Date": "yesterday"}, None),
        ({"Date": "Sat, 16 May 99999 14:30:00 GMT"}, None),
        ({}, None),
    ],
)
def test_server_date(headers: dict[str, str], expected: datetime | None) -> None:
    assert server_date(headers) == expected


def test_server_clock_is_the_local_clock_until_a_server_dates_a_response() -> None:
    local = [datetime(2026, 11, 21, 10, 0, 0, 500_000, tzinfo=UTC)]
    clock = ServerClock(lambda: local[0])
    assert (clock(), clock.from_server) == (local[0], False)
    clock.observe({"Content-Type": "application/json"})
    assert clock() == local[0]
    clock.observe({"Date": "Sat, 16 May 2026 14:30:00 GMT"})  # e.g. a simulated clock months behind
    assert clock.from_server
    assert clock() == datetime(2026, 5, 16, 14, 30, tzinfo=UTC)
    local[0] += timedelta(seconds=2)  # carried forward on the local clock between responses
    assert clock() == datetime(2026, 5, 16, 14, 30, 2, tzinfo=UTC)
    clock.observe({"Date": "garbage"})  # an unusable header leaves the clock as it was
    assert clock() == datetime(2026, 5, 16, 14, 30, 2, tzinfo=UTC)


async def test_server_clock_observes_every_response_of_a_session() -> None:
    from aiohttp import ClientSession, web
    from aiohttp.test_utils import TestServer

    async def dated(_: web.Request) -> web.Response:
        return web.Response(text="ok", headers={"Date": "Sat, 16 May 2026 14:30:00 GMT"})

    app = web.Application()
    app.router.add_get("/", dated)
    clock = ServerClock()
    async with (
        TestServer(app) as server,
        ClientSession(trace_configs=[clock.trace_config()]) as session,
        session.get(server.make_url("/")) as resp,
    ):
        assert await resp.text() == "ok"
    assert clock.from_server
    assert abs(clock() - datetime(2026, 5, 16, 14, 30, tzinfo=UTC)) < timedelta(seconds=5)
