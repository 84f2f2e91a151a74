"""``WsSession`` over real loopback sockets against a scripted server (tests/support/rawws.py):
signed handshakes on every connect, commands, reconnect with backoff and restored subscriptions,
idle detection, pings, terminal errors, refusals, fragmented messages, connect failures.

The session against the embedded exchange (books, gaps, drops) is in
tests/integration/marketdata/test_monitor_exchange.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
import pytest
from tests.support.exchange import process_key
from tests.support.rawws import OP_PING, RawConnection, RawWsServer, encode_frame

from kalshi_trader.kalshi import schemas as s
from kalshi_trader.kalshi.auth import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, Signer, Verifier
from kalshi_trader.kalshi.ws import ORDERBOOK, Backoff, WsAuthError, WsCommandError, WsConnectError, WsSession

A, B = "KXTEST-26JAN01-A", "KXTEST-26JAN01-B"
MARKET_ID = "9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1"
FAST = Backoff(initial_s=0.05, max_s=0.2, jitter=0.5)

pytestmark = pytest.mark.timeout(30)


def snapshot_frame(sid: int, seq: int, ticker: str) -> bytes:
    msg = {"market_ticker": ticker, "market_id": MARKET_ID, "yes_dollars_fp": [["0.4000", "10.00"]]}
    return msgspec.json.encode({"type": "orderbook_snapshot", "sid": sid, "seq": seq, "msg": msg})


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.changed = asyncio.Event()

    def _add(self, name: str, value: Any) -> None:
        self.events.append((name, value))
        self.changed.set()

    def on_orderbook_snapshot(self, msg: s.OrderbookSnapshotMsg) -> None:
        self._add("snapshot", msg.market_ticker)

    def on_orderbook_delta(self, msg: s.OrderbookDeltaMsg) -> None:
        self._add("delta", msg.market_ticker)

    def on_frame(self, frame: s.ServerFrame | s.UnknownFrame) -> None:
        self._add("frame", frame)

    def on_stale(self, tickers: Sequence[str], reason: str) -> None:
        self._add("stale", (list(tickers), reason))

    def on_gap(self, channel: str, reason: str) -> None:
        self._add("gap", (channel, reason))

    def on_connection(self, connected: bool) -> None:
        self._add("connection", connected)

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    async def until(self, pred: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while not pred():
                self.changed.clear()
                await self.changed.wait()


Hook = Callable[[RawConnection, dict[str, Any], "KalshiLike"], Awaitable[bool]]


class KalshiLike:
    """Answers commands the way Kalshi does (one sid per channel, snapshots for orderbook
    markets); ``hook`` may take over a command (return True) to script faults."""

    def __init__(self, hook: Hook | None = None) -> None:
        self.hook = hook
        self.connections: list[list[dict[str, Any]]] = []
        self.conns: list[RawConnection] = []
        self.seq: dict[int, int] = {}
        self.first_command = asyncio.Event()

    async def __call__(self, conn: RawConnection) -> None:
        commands: list[dict[str, Any]] = []
        self.connections.append(commands)
        self.conns.append(conn)
        sids: dict[str, int] = {}
        async for command in conn.commands():
            commands.append(command)
            self.first_command.set()
            if self.hook is not None and await self.hook(conn, command, self):
                continue
            params = command.get("params", {})
            if command["cmd"] == "subscribe":
                channel = params["channels"][0]
                sid = sids.setdefault(channel, len(sids) + 1)
                out = [
                    msgspec.json.encode(
                        {"type": "subscribed", "msg": {"channel": channel, "sid": sid}, "id": command["id"]}
                    )
                ]
                if channel == ORDERBOOK:
                    self.seq[sid] = 0
                    for ticker in params["market_tickers"]:
                        self.seq[sid] += 1
                        out.append(snapshot_frame(sid, self.seq[sid], ticker))
                await conn.send(out)
            elif command["cmd"] == "update_subscription":
                sid = params["sid"]
                out = [
                    msgspec.json.encode(
                        {"type": "ok", "id": command["id"], "sid": sid, "seq": self.seq.get(sid, 0), "msg": {}}
                    )
                ]
                if params["action"] in ("add_markets", "get_snapshot"):
                    for ticker in params["market_tickers"]:
                        self.seq[sid] += 1
                        out.append(snapshot_frame(sid, self.seq[sid], ticker))
                await conn.send(out)
            elif command["cmd"] == "unsubscribe":
                for sid in params["sids"]:
                    await conn.send(
                        [
                            msgspec.json.encode(
                                {
                                    "type": "unsubscribed",
                                    "id": command["id"],
                                    "sid": sid,
                                    "seq": max(1, self.seq.get(sid, 1)),
                                }
                            )
                        ]
                    )
            elif command["cmd"] == "list_subscriptions":
                subs = [{"channel": c, "sid": i} for c, i in sids.items()]
                await conn.send([msgspec.json.encode({"type": "ok", "id": command["id"], "msg": subs})])


@contextlib.asynccontextmanager
async def serving(behaviour: Any) -> Any:
    server = RawWsServer(behaviour)
    url = await server.start()
    try:
        yield server, url
    finally:
        await server.close()


async def eventually(pred: Callable[[], bool], within: float = 5.0) -> None:
    for _ in range(int(within / 0.01)):
        if pred():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def signer() -> Signer:
    return Signer("key-1", process_key(0))


def channels_of(commands: list[dict[str, Any]]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (c["cmd"], c["params"]["channels"][0], tuple(c["params"].get("market_tickers", ())))
        for c in commands
        if c["cmd"] == "subscribe"
    ]


# -- handshake and commands -------------------------------------------------------------------------


async def test_every_connect_is_signed_afresh_and_subscriptions_are_restored() -> None:
    kalshi = KalshiLike()
    async with serving(kalshi) as (server, url):
        handler = Recorder()
        session = WsSession(url, signer(), handler, backoff=FAST)
        await session.subscribe([ORDERBOOK, "ticker"], [A, B])
        await session.subscribe(["market_lifecycle_v2"])
        await session.start()
        try:
            await handler.until(lambda: handler.names().count("snapshot") == 2)
            first = channels_of(kalshi.connections[0])
            assert first == [
                ("subscribe", ORDERBOOK, (A, B)),
                ("subscribe", "ticker", (A, B)),
                ("subscribe", "market_lifecycle_v2", ()),
            ]
            assert kalshi.connections[0][0]["params"]["use_yes_price"] is False
            await asyncio.sleep(0.01)  # a later timestamp for the next signature
            kalshi.conns[0].abort()
            await handler.until(lambda: handler.names().count("connection") == 3)  # up, down, up again
            assert channels_of(kalshi.connections[1]) == first
            assert session.stats.connects == 2
            assert session.stats.disconnects == 1
        finally:
            await session.close()
    # the drop reported the books stale, the reconnect re-snapshotted them; closing reports them stale again
    up, down, stale, snap = "connection", "connection", "stale", "snapshot"
    assert handler.names() == [snap, snap, up, stale, down, snap, snap, up, stale, down]
    assert [value for name, value in handler.events if name == "connection"] == [True, False, True, False]
    assert handler.events[3][1][0] == [A, B]
    # both handshakes carried a valid signature over the WS path, with different timestamps
    verifier = Verifier({"key-1": process_key(0).public_key()}, max_skew_ms=60_000)
    stamps = []
    for headers in server.requests:
        wanted = {HEADER_KEY: headers[HEADER_KEY.lower()], HEADER_TIMESTAMP: headers[HEADER_TIMESTAMP.lower()],
                  HEADER_SIGNATURE: headers[HEADER_SIGNATURE.lower()]}  # fmt: skip
        assert verifier.verify(wanted, "GET", "/trade-api/ws/v2") == "key-1"
        stamps.append(wanted[HEADER_TIMESTAMP])
    assert len(stamps) == 2
    assert stamps[0] != stamps[1]


async def test_subscribe_update_and_unsubscribe_send_the_documented_commands() -> None:
    kalshi = KalshiLike()
    async with serving(kalshi) as (_, url):
        handler = Recorder()
        async with WsSession(url, signer(), handler, backoff=FAST) as session:
            await session.subscribe([ORDERBOOK], [A])
            await session.subscribe([ORDERBOOK], [A, B])  # only B is new
            await session.update_subscription(ORDERBOOK, "get_snapshot", [A])
            await session.unsubscribe([ORDERBOOK], [A])
            await session.subscribe(["trade"])
            listing = await session.list_subscriptions()
            await session.unsubscribe(["trade"])
            await session.unsubscribe([ORDERBOOK])
            assert session.subscriptions() == {}
            await handler.until(lambda: handler.names().count("snapshot") == 3)
    got = [(c["cmd"], c.get("params")) for c in kalshi.connections[0]]
    assert got == [
        ("subscribe", {"channels": [ORDERBOOK], "market_tickers": [A], "use_yes_price": False}),
        ("update_subscription", {"action": "add_markets", "sid": 1, "market_tickers": [B]}),
        ("update_subscription", {"action": "get_snapshot", "sid": 1, "market_tickers": [A]}),
        ("update_subscription", {"action": "delete_markets", "sid": 1, "market_tickers": [A]}),
        ("subscribe", {"channels": ["trade"]}),
        ("list_subscriptions", None),
        ("unsubscribe", {"sids": [2]}),
        ("unsubscribe", {"sids": [1]}),
    ]
    assert [(i.channel, i.sid) for i in listing] == [(ORDERBOOK, 1), ("trade", 2)]
    assert [c["id"] for c in kalshi.connections[0]] == list(range(1, 9))


async def test_a_refused_command_raises_and_changes_nothing() -> None:
    async def refuse_unknown(conn: RawConnection, command: dict[str, Any], _: KalshiLike) -> bool:
        tickers = command.get("params", {}).get("market_tickers", [])
        if "NOPE-1" in tickers:
            error = {"code": 11, "msg": "Invalid parameter", "market_tickers": ["NOPE-1"]}
            await conn.send([msgspec.json.encode({"type": "error", "id": command["id"], "msg": error})])
            return True
        return False

    async with (
        serving(KalshiLike(refuse_unknown)) as (_, url),
        WsSession(url, signer(), Recorder(), backoff=FAST) as session,
    ):
        await session.subscribe([ORDERBOOK], [A])
        with pytest.raises(WsCommandError) as info:
            await session.subscribe([ORDERBOOK], ["NOPE-1"])
        assert (info.value.code, info.value.market_tickers) == (11, ["NOPE-1"])
        assert session.subscriptions() == {ORDERBOOK: [A]}
        with pytest.raises(WsCommandError):
            await session.subscribe(["ticker"], ["NOPE-1"])
        assert session.subscriptions() == {ORDERBOOK: [A]}
        assert session.stats.error_replies == 2
        assert session.connected


# -- gaps and resync ---------------------------------------------------------------------------------------


async def test_a_gap_resyncs_with_get_snapshot_and_falls_back_to_resubscribing() -> None:
    async def refuse_get_snapshot(conn: RawConnection, command: dict[str, Any], _: KalshiLike) -> bool:
        if command["cmd"] == "update_subscription" and command["params"]["action"] == "get_snapshot":
            error = {"code": 13, "msg": "Unsupported action"}
            await conn.send([msgspec.json.encode({"type": "error", "id": command["id"], "msg": error})])
            return True
        return False

    kalshi = KalshiLike(refuse_get_snapshot)
    async with serving(kalshi) as (_, url):
        handler = Recorder()
        async with WsSession(url, signer(), handler, backoff=FAST) as session:
            await session.subscribe([ORDERBOOK], [A, B])
            await handler.until(lambda: handler.names().count("snapshot") == 2)
            await kalshi.conns[0].send([snapshot_frame(1, 9, A)])  # seq 3..8 lost
            await handler.until(lambda: handler.names().count("snapshot") == 5)
            assert session.stats.seq_gaps == 1
            assert session.stats.resyncs == 1
            assert session.sid_of(ORDERBOOK) == 1  # resubscribed (this server reuses the sid)
    cmds = [(c["cmd"], c["params"].get("action")) for c in kalshi.connections[0]]
    assert cmds == [
        ("subscribe", None),
        ("update_subscription", "get_snapshot"),
        ("unsubscribe", None),
        ("subscribe", None),
    ]
    stale = [value for name, value in handler.events if name == "stale"]
    assert stale == [([A, B], "seq gap on orderbook_delta sid 1: 9 after 2"), ([A, B], "closed")]


# -- liveness -------------------------------------------------------------------------------------------------


async def test_a_silent_server_is_pinged_then_dropped_and_the_session_reconnects() -> None:
    kalshi = KalshiLike()

    async def silent(conn: RawConnection) -> None:
        conn.answer_pings = False
        await kalshi(conn)

    async with serving(silent) as (server, url):
        handler = Recorder()
        async with WsSession(url, signer(), handler, backoff=FAST, idle_timeout_s=0.4) as session:
            await session.subscribe([ORDERBOOK], [A])
            await handler.until(lambda: session.stats.connects >= 2, within=5)
            assert session.stats.idle_timeouts >= 1
            assert kalshi.conns[0].pings >= 1
            assert "no frame for 0.4s" in session.stats.last_error
            await handler.until(lambda: handler.names().count("snapshot") >= 2)
    assert server.connections >= 2


async def test_a_quiet_server_that_answers_pings_keeps_the_connection() -> None:
    kalshi = KalshiLike()
    async with (
        serving(kalshi) as (_, url),
        WsSession(url, signer(), Recorder(), backoff=FAST, idle_timeout_s=0.3) as session,
    ):
        await session.subscribe([ORDERBOOK], [A])
        await asyncio.sleep(1.0)
        assert session.stats.connects == 1
        assert session.stats.idle_timeouts == 0
        assert kalshi.conns[0].pings >= 2


async def test_a_connection_lost_while_restoring_leaves_the_session_disconnected() -> None:
    async def drop_restores(conn: RawConnection, command: dict[str, Any], kalshi: KalshiLike) -> bool:
        if len(kalshi.conns) > 1:  # every reconnect: the socket drops as the subscriptions are restored
            conn.abort()
            return True
        return False

    kalshi = KalshiLike(drop_restores)
    server = RawWsServer(kalshi)
    url = await server.start()
    handler = Recorder()
    try:
        # A long command timeout: a restore must fail when its socket drops, not when the reply is late.
        async with WsSession(url, signer(), handler, backoff=FAST, command_timeout_s=60) as session:
            await session.subscribe([ORDERBOOK], [A])
            await handler.until(lambda: handler.names().count("snapshot") == 1)
            kalshi.conns[0].abort()
            await eventually(lambda: len(kalshi.connections) >= 3, within=10)
            await server.close()  # nothing accepts any more: the session stays in its reconnect loop
            await eventually(lambda: "cannot connect" in session.stats.last_error, within=10)
            assert not session.connected
            assert [v for n, v in handler.events if n == "connection"] == [True, False]
    finally:
        await server.close()


async def test_server_pings_are_answered_with_pongs() -> None:
    kalshi = KalshiLike()
    async with serving(kalshi) as (server, url), WsSession(url, signer(), Recorder(), backoff=FAST):
        assert server.connections == 1
        conn = kalshi.conns[0]
        await conn.send_raw(encode_frame(b"heartbeat", OP_PING))
        await eventually(lambda: conn.pongs == 1)


async def test_a_terminal_error_makes_the_session_reconnect_and_restore() -> None:
    kalshi = KalshiLike()
    async with serving(kalshi) as (_, url):
        handler = Recorder()
        async with WsSession(url, signer(), handler, backoff=FAST, idle_timeout_s=0.2) as session:
            await session.subscribe([ORDERBOOK], [A])
            await handler.until(lambda: handler.names().count("snapshot") == 1)
            overflow = {"type": "error", "msg": {"code": 25, "msg": "Subscription buffer overflow"}}
            await kalshi.conns[0].send([msgspec.json.encode(overflow)])
            await handler.until(lambda: handler.names().count("snapshot") == 2)
            assert session.stats.connects == 2
            assert session.stats.last_error == "terminal error 25 (Subscription buffer overflow)"
            await asyncio.sleep(0.3)  # several watchdog ticks: the new connection stays up
            assert session.stats.connects == 2
            assert session.connected


def fragments(parts: list[bytes]) -> bytes:
    """One text message sent as several frames (server to client: unmasked)."""
    out = b""
    for i, part in enumerate(parts):
        head = (0x80 if i == len(parts) - 1 else 0) | (0x01 if i == 0 else 0x00)
        size = bytes([len(part)]) if len(part) < 126 else bytes([126]) + struct.pack("!H", len(part))
        out += bytes([head]) + size + part
    return out


async def test_a_fragmented_message_is_reassembled() -> None:
    kalshi = KalshiLike()
    async with serving(kalshi) as (_, url):
        handler = Recorder()
        async with WsSession(url, signer(), handler, backoff=FAST) as session:
            await session.subscribe([ORDERBOOK], [A])
            await handler.until(lambda: handler.names().count("snapshot") == 1)
            frame = snapshot_frame(1, 2, B)
            await kalshi.conns[0].send_raw(fragments([frame[:20], frame[20:]]))
            await handler.until(lambda: handler.names().count("snapshot") == 2)
            # fragments longer than a control frame can be (the listener's fast path must not take them)
            msg = {"market_ticker": A, "market_id": MARKET_ID, "yes_dollars_fp": [["0.4000", "10.00"]] * 40}
            big = msgspec.json.encode({"type": "orderbook_snapshot", "sid": 1, "seq": 3, "msg": msg})
            parts = [big[:300], big[300:600], big[600:]]
            assert all(len(p) > 125 for p in parts)
            await kalshi.conns[0].send_raw(fragments(parts))
            await handler.until(lambda: handler.names().count("snapshot") == 3)
            assert session.stats.bad_frames == 0


async def test_a_malformed_frame_over_the_socket_is_counted_and_the_session_lives() -> None:
    kalshi = KalshiLike()
    async with serving(kalshi) as (_, url):
        handler = Recorder()
        async with WsSession(url, signer(), handler, backoff=FAST) as session:
            await session.subscribe([ORDERBOOK], [A])
            await handler.until(lambda: handler.names().count("snapshot") == 1)
            await kalshi.conns[0].send([b'{"type": "orderbook_delta", "sid": 1, "se', snapshot_frame(1, 2, A)])
            await handler.until(lambda: handler.names().count("snapshot") == 2)
            assert session.stats.bad_frames == 1
            assert session.stats.connects == 1


# -- failures to connect ---------------------------------------------------------------------------------------


async def test_an_unreachable_server_is_a_connect_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    session = WsSession(f"ws://127.0.0.1:{port}/trade-api/ws/v2", signer(), connect_timeout_s=2)
    with pytest.raises(WsConnectError, match="cannot connect"):
        await session.start()
    await session.close()


async def test_a_refused_signature_is_an_auth_error() -> None:
    from tests.support.exchange import running_exchange

    async with running_exchange() as exchange:
        wrong = Signer(exchange.trader.key_id, process_key(7))
        session = WsSession(exchange.ws_url, wrong)
        with pytest.raises(WsAuthError, match="401"):
            await session.start()
        await session.close()
        right = WsSession(exchange.ws_url, Signer(exchange.trader.key_id, exchange.trader.private_key))
        await right.start()
        assert right.connected
        await right.close()
        assert not right.connected
