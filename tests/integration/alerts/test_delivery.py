"""Alerts reach real receivers on loopback — a JSON webhook and an SMTP server — through Apprise,
with a result per destination, secrets kept out of results and logs, and a receiver that hangs
holding up nothing but later alerts."""

from __future__ import annotations

import asyncio
import time

from tests.integration.alerts.receivers import smtp, webhook

from kalshi_trader.alerts.dispatcher import Dispatcher
from kalshi_trader.alerts.message import Alert, Severity
from kalshi_trader.alerts.sender import ApprisePoster
from kalshi_trader.alerts.throttle import Throttle

SECRET = "hdr-s3cret-value-42"


def test_one_message_reaches_a_webhook_and_a_mailbox_with_a_result_each() -> None:
    with webhook() as hook, smtp() as box:
        mail = f"mailto://bot:mail-pw-777@127.0.0.1:{box.port}?from=bot@example.com&to=owner@example.com"
        poster = ApprisePoster([hook.url(query=f"+X-Token={SECRET}"), mail], timeout_s=10)
        results = poster.post("Kill switch engaged by ops: test", "who: ops\nwhy: test", Severity.FAILURE)
        assert [(r.target, r.ok) for r in results] == [
            (f"json://127.0.0.1:{hook.port}/***", True),
            (f"mailto://127.0.0.1:{box.port}/***", True),
        ]
        [(headers, body)] = hook.received
        assert body["title"] == "Kill switch engaged by ops: test"
        assert body["message"] == "who: ops\nwhy: test"
        assert body["type"] == "failure"
        assert headers["x-token"] == SECRET  # the receiver gets its header; nothing shows it elsewhere
        [message] = box.messages
        assert message["Subject"] == "Kill switch engaged by ops: test"
        assert box.logins == ["bot"]
        for text in (repr(results), message.as_string(), str(body)):
            assert SECRET not in text
            assert "mail-pw-777" not in text


def test_failures_are_reported_per_destination_without_secrets() -> None:
    with webhook() as ok, webhook() as refusing:
        refusing.status = 500
        closed = webhook()
        with closed as gone:
            gone_url = gone.url(query=f"+X-Token={SECRET}")
        urls = [
            ok.url(),
            refusing.url(path="secret-path-segment"),
            gone_url,
            "tgram://123456789:AAHbotTokenSecret/42",
            "nonsense://what",
        ]
        results = ApprisePoster(urls, timeout_s=5).post("test", "body")
    assert [r.ok for r in results] == [True, False, False, False, False]
    assert results[4].error == "not a URL Apprise understands (check the scheme and its fields)"
    assert results[3].target == "tgram://***"
    for r in results[1:]:
        assert r.error
        for secret in (SECRET, "secret-path-segment", "AAHbotTokenSecret", "123456789"):
            assert secret not in r.error
            assert secret not in r.target


async def test_a_hanging_receiver_does_not_hold_up_the_event_loop() -> None:
    with webhook() as hook:
        hook.hang_s = 30
        throttle = Throttle(window_s=0, per_hour=3600, clock=time.monotonic)
        dispatcher = Dispatcher(ApprisePoster([hook.url()], timeout_s=1.5), throttle, prefix="kalshi-trader sim:")
        dispatcher.start()
        gaps: list[float] = []
        posts: list[float] = []
        last = time.perf_counter()
        for n in range(150):  # 1.5 s of a 10 ms loop while every send hangs until its timeout
            t0 = time.perf_counter()
            dispatcher.post(Alert(f"fill:{n}", f"fill {n}"))
            posts.append(time.perf_counter() - t0)
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
        hook.release.set()
        await dispatcher.close(timeout_s=5)
    # Measured, not a budget: the loop kept its 10 ms beat (a blocked loop would show a 1.5 s gap).
    assert max(gaps) < 1.0, f"the event loop stalled {max(gaps):.3f} s"
    assert max(posts) < 0.1
    assert dispatcher.stats.failed >= 1
    assert "json://127.0.0.1" in dispatcher.stats.last_error


async def test_the_dispatcher_sends_in_the_background_and_counts() -> None:
    with webhook() as hook:
        throttle = Throttle(window_s=60, per_hour=3600, clock=time.monotonic)
        dispatcher = Dispatcher(ApprisePoster([hook.url()], timeout_s=5), throttle, prefix="kalshi-trader sim:")
        dispatcher.start()
        dispatcher.post(Alert("feed", "Exchange feed lost", (("feed", "ws://x"),), Severity.WARNING))
        for _ in range(200):
            if hook.received:
                break
            await asyncio.sleep(0.05)
        dispatcher.post(Alert("feed", "Exchange feed back after 1 s"))  # within the window: held, then
        dispatcher.post(Alert("feed", "Exchange feed lost", (("feed", "ws://x"),), Severity.WARNING))  # replaced
        await asyncio.sleep(0.5)
        assert len(hook.received) == 1
        await dispatcher.close(timeout_s=5)
    titles = hook.titles()
    assert titles == ["kalshi-trader sim: Exchange feed lost", "kalshi-trader sim: Exchange feed lost"]
    last_body = hook.received[1][1]["message"]
    assert "the latest of 2 alerts about this" in last_body
    assert dispatcher.stats.sent == 2
    assert throttle.merged_total == 1


async def test_closing_while_alerts_are_on_their_way_loses_none_of_them() -> None:
    with webhook() as hook:
        hook.hang_s = 0.5  # a slow receiver: the stop comes while the batch is being sent
        throttle = Throttle(window_s=0, per_hour=3600, clock=time.monotonic)
        dispatcher = Dispatcher(ApprisePoster([hook.url()], timeout_s=5), throttle, prefix="p:")
        dispatcher.start()
        for key in ("feed", "breaker:feed_down", "node:stop"):
            dispatcher.post(Alert(key, key))
        await asyncio.sleep(0.1)
        await dispatcher.close(timeout_s=10)
    assert sorted(hook.titles()) == ["p: breaker:feed_down", "p: feed", "p: node:stop"]
