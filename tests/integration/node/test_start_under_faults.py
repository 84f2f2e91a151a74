"""Start-up rides out the faults a flaky network brings — 5xx answers, lost responses, dropped
sockets (the exchange's fault injection) — with backoff and a progress line per retry, and stops at
once with its own one-line reason for what retrying cannot fix: a refused key, a URL where nothing
answers. Errors name the exchange the node was pointed at, not the embedded one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.support.node import faults, running_exchange_process

from kalshi_trader.config import Settings, load_settings
from kalshi_trader.node import NodeError, NodeOptions, TradingNode

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

FLAKY = "http_5xx=0.3,lost_response=0.1,ws_drop=0.01"


def _options(**kw: object) -> NodeOptions:
    return NodeOptions(embedded=False, autostart=False, fresh_timeout_s=3, **kw)  # type: ignore[arg-type]


async def _start(settings: Settings, **kw: object) -> tuple[TradingNode, list[str]]:
    node = TradingNode(settings, _options(**kw))
    progress: list[str] = []
    node.on_progress = progress.append
    await node.start()
    return node, progress


def test_twenty_starts_against_a_flaky_exchange_all_reach_running(tmp_path: Path) -> None:
    with running_exchange_process(tmp_path, "--faults", FLAKY, "--seed", "3") as rest_url:
        settings = load_settings(data_dir=tmp_path, api={"url": rest_url})

        async def twenty() -> list[int]:
            retries = []
            for _ in range(20):
                node, progress = await _start(settings)
                try:
                    assert node.health().status != "stopped"
                    assert node.connection().books_total > 0
                finally:
                    await node.stop("next start")
                retries.append(len(progress))
            return retries

        retries = asyncio.run(twenty())
        injected = faults(rest_url, tmp_path)
    assert len(retries) == 20
    assert injected["injected"].get("http_5xx", 0) > 0  # the faults were there all along
    assert injected["injected"].get("lost_response", 0) > 0


def test_a_start_waits_out_an_exchange_failing_every_request_then_runs(tmp_path: Path) -> None:
    with running_exchange_process(tmp_path, "--seed", "3") as rest_url:
        settings = load_settings(data_dir=tmp_path, api={"url": rest_url})
        faults(rest_url, tmp_path, "http_5xx=1")

        async def ride_out() -> list[str]:
            node = TradingNode(settings, _options())
            progress: list[str] = []
            node.on_progress = progress.append
            starting = asyncio.ensure_future(node.start())
            for _ in range(600):
                if len(progress) >= 2 or starting.done():
                    break
                await asyncio.sleep(0.05)
            await asyncio.to_thread(faults, rest_url, tmp_path, "none")
            await starting
            try:
                assert node.health().status != "stopped"
            finally:
                await node.stop("test over")
            return progress

        progress = asyncio.run(ride_out())
    assert len(progress) >= 2
    assert progress[0].startswith("Start-up: GET /trade-api/v2/")
    assert "; trying again in " in progress[0]
    assert progress[0].endswith("(attempt 2)")


def test_an_exchange_that_keeps_failing_is_named_after_the_timeout(tmp_path: Path) -> None:
    with running_exchange_process(tmp_path, "--faults", "http_5xx=1", "--seed", "3") as rest_url:
        settings = load_settings(data_dir=tmp_path, api={"url": rest_url})
        with pytest.raises(NodeError) as failed:
            asyncio.run(_start(settings, start_timeout_s=3.0))
    message = str(failed.value)
    assert message.startswith(f"cannot start the node: the exchange at {rest_url} kept failing for ")
    assert "embedded" not in message
    assert "\n" not in message


def test_a_refused_key_and_a_wrong_url_stop_at_once_with_their_own_reason(tmp_path: Path) -> None:
    with running_exchange_process(tmp_path, "--seed", "3") as rest_url:
        wrong_key = load_settings(data_dir=tmp_path, api={"url": rest_url, "key_id": "not-a-key-of-this-exchange"})
        with pytest.raises(NodeError) as refused:
            asyncio.run(_start(wrong_key))
    assert str(refused.value).startswith(f"the exchange at {rest_url} refused the API key (")
    assert str(refused.value).endswith("check api.key_id and api.key_file (or --key-id / --key-file)")
    nothing = "http://127.0.0.1:1/trade-api/v2"
    wrong_url = load_settings(data_dir=tmp_path, api={"url": nothing})
    with pytest.raises(NodeError) as unreachable:
        asyncio.run(_start(wrong_url))
    assert str(unreachable.value).startswith(f"cannot reach the exchange at {nothing} (")
    assert str(unreachable.value).endswith("is the URL right?")
