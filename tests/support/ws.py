"""A WebSocket v2 test client that checks every frame it receives against Kalshi's contract.

Contract:
- ``WsClient.connect(ws_url, key_id, private_key)`` opens a connection with the three signed
  ``KALSHI-ACCESS-*`` handshake headers (``timestamp + "GET" + url path``); without credentials it
  sends none. ``autoping=False`` lets a test see the server's Ping frames (``recv_control``).
- ``send(cmd, params)`` sends ``{"id", "cmd", "params"}`` with the next id (1, 2, …) and returns
  the id; well-formed commands are checked against the AsyncAPI first (``validate=False`` for the
  deliberately broken ones, or use ``send_raw``).
- Every text frame received is decoded and validated with ``spec.validate_ws_message(closed=True)``
  (no undocumented keys); it must carry ``sending_ts_ms`` (the embedded exchange stamps every
  frame), within a minute of this machine's clock, which is then moved from the frame to
  ``sending_ts_ms`` (so tests compare frames without it). Then its ``seq`` is checked: on the
  sequenced messages (``SEQUENCED_TYPES``, and an ``error`` that carries one) it must be exactly
  one more than the previous frame's on that sid (the first frame on a sid must carry 1); an
  ``ok``/``unsubscribed`` reply's ``seq`` must equal the last one seen. Any violation raises
  ``AssertionError``. Every frame is kept in ``frames``.
- ``recv()`` returns the next frame (``TimeoutError`` after ``within`` seconds); ``until(pred)``
  returns the frames up to and including the first that matches; ``reply(id)`` waits for the
  reply to command ``id``; ``quiet(seconds)`` collects what arrives within a window.
- ``example_frames()`` — the WebSocket examples of ``tests/fixtures/kalshi/ws_examples.json``
  (2025) with what the refreshed documents require added: ``seq`` on the channels documented as
  sequenced since Sep 2026, ``exchange_index`` on user orders (Aug 2026).
- ``BookReplica`` rebuilds order books from snapshots and deltas (ignoring other frames), in the shape of
  ``GET /markets/{ticker}/orderbook`` (both ladders ascending, NO-leg prices).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec
from tests.support import spec

from kalshi_trader.domain import complement, format_price, format_qty, parse_price, parse_qty
from kalshi_trader.kalshi.auth import PrivateKey, Signer

JSON = Any
SEQUENCED_TYPES = frozenset(
    {
        "orderbook_snapshot",
        "orderbook_delta",
        "order_group_updates",
        "trade",
        "market_lifecycle_v2",
        "multivariate_market_lifecycle",
        "event_lifecycle",
        "event_fee_update",
    }
)
DEFAULT_TIMEOUT = 5.0


class WsClient:
    """One client connection (see the module docstring)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, session: aiohttp.ClientSession | None) -> None:
        self.ws = ws
        self._session = session
        self._next_id = 1
        self.frames: list[dict[str, Any]] = []
        self.last_seq: dict[int, int] = {}
        self.sending_ts_ms: list[int] = []
        """Each received frame's ``sending_ts_ms``, in arrival order."""

    @classmethod
    async def connect(
        cls,
        ws_url: str,
        key_id: str | None = None,
        private_key: PrivateKey | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        headers: Mapping[str, str] | None = None,
        autoping: bool = True,
    ) -> WsClient:
        send_headers: dict[str, str] = {}
        if key_id is not None and private_key is not None:
            send_headers.update(Signer(key_id, private_key).headers("GET", urlsplit(ws_url).path))
        send_headers.update(headers or {})
        own = session is None
        sess = aiohttp.ClientSession() if session is None else session
        try:
            ws = await sess.ws_connect(ws_url, headers=send_headers, autoping=autoping, max_msg_size=0)
        except BaseException:
            if own:
                await sess.close()
            raise
        return cls(ws, sess if own else None)

    async def close(self) -> None:
        await self.ws.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> WsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- sending ---------------------------------------------------------------------------

    async def send(self, cmd: str, params: JSON = None, *, validate: bool = True, id: int | None = None) -> int:
        command_id = self._next_id if id is None else id
        self._next_id = max(self._next_id, command_id) + 1
        command: dict[str, Any] = {"id": command_id, "cmd": cmd}
        if params is not None:
            command["params"] = params
        if validate:
            spec.validate_ws_command(command, closed=True)
        await self.ws.send_str(msgspec.json.encode(command).decode())
        return command_id

    async def send_raw(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)

    # -- receiving -------------------------------------------------------------------------

    async def recv(self, within: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The next JSON frame, validated and seq-checked."""
        while True:
            message = await self.ws.receive(timeout=within)
            if message.type is aiohttp.WSMsgType.TEXT:
                return self._accept(message.data)
            if message.type in (aiohttp.WSMsgType.PING, aiohttp.WSMsgType.PONG):
                continue
            raise AssertionError(f"expected a text frame, got {message.type.name} {message.data!r}")

    async def recv_control(self, within: float = DEFAULT_TIMEOUT) -> aiohttp.WSMessage:
        """The next frame of any kind (text frames are still validated and recorded)."""
        message = await self.ws.receive(timeout=within)
        if message.type is aiohttp.WSMsgType.TEXT:
            self._accept(message.data)
        return message

    async def until(
        self, pred: Callable[[dict[str, Any]], bool], within: float = DEFAULT_TIMEOUT
    ) -> list[dict[str, Any]]:
        """Frames up to and including the first one ``pred`` accepts."""
        got: list[dict[str, Any]] = []
        async with asyncio.timeout(within):
            while True:
                frame = await self.recv(within)
                got.append(frame)
                if pred(frame):
                    return got

    async def reply(self, command_id: int, within: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The (first) reply to ``command_id``; frames before it stay in ``frames``."""
        return (await self.until(lambda f: f.get("id") == command_id, within))[-1]

    async def replies(self, command_id: int, count: int, within: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        while len(got) < count:
            got.append(await self.reply(command_id, within))
        return got

    async def quiet(self, seconds: float = 0.2) -> list[dict[str, Any]]:
        """Whatever arrives within ``seconds`` (no frame at all is fine)."""
        got: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                got.append(await self.recv(left))
            except TimeoutError:
                break
        return got

    async def request(self, cmd: str, params: JSON = None, **kw: Any) -> dict[str, Any]:
        """Send a command and return its (first) reply."""
        return await self.reply(await self.send(cmd, params, **kw))

    def _accept(self, data: str) -> dict[str, Any]:
        frame = msgspec.json.decode(data)
        spec.validate_ws_message(frame, closed=True)
        sent = frame.pop("sending_ts_ms", None)
        assert isinstance(sent, int), f"no sending_ts_ms in {frame}"
        assert abs(sent - time.time_ns() // 1_000_000) < 60_000, f"sending_ts_ms {sent} is not wall-clock time"
        self.sending_ts_ms.append(sent)
        kind, sid, seq = frame["type"], frame.get("sid"), frame.get("seq")
        if kind in SEQUENCED_TYPES or (kind == "error" and seq is not None):
            expected = self.last_seq.get(sid, 0) + 1
            assert seq == expected, f"sid {sid}: seq {seq} after {expected - 1} in {frame}"
            self.last_seq[sid] = seq
        elif kind in ("ok", "unsubscribed") and seq is not None and sid in self.last_seq:
            assert seq == self.last_seq[sid], f"sid {sid}: {kind} reports seq {seq}, last seen {self.last_seq[sid]}"
        self.frames.append(frame)
        return frame


_EXAMPLE_REFRESH: dict[str, dict[str, Any]] = {
    "trade": {"seq": 3},
    "market_lifecycle_v2": {"seq": 4},
    "event_lifecycle": {"seq": 5},
    "event_fee_update": {"seq": 6},
}


def example_frames() -> dict[str, Any]:
    path = Path(__file__).resolve().parents[1] / "fixtures" / "kalshi" / "ws_examples.json"
    frames: dict[str, Any] = json.loads(path.read_text())["frames"]
    for name, extra in _EXAMPLE_REFRESH.items():
        frames[name] = {**frames[name], **extra}
    frames["user_order"]["msg"]["exchange_index"] = 0
    return frames


def of_type(kind: str, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == kind]


@dataclass
class BookReplica:
    """Books rebuilt from ``orderbook_snapshot`` / ``orderbook_delta`` frames (exact integers)."""

    use_yes_price: bool = False
    levels: dict[tuple[str, str], dict[int, int]] = field(default_factory=lambda: defaultdict(dict))

    def apply(self, frame: dict[str, Any]) -> None:
        """Apply one frame (frames other than orderbook snapshots and deltas are ignored)."""
        if frame["type"] not in ("orderbook_snapshot", "orderbook_delta"):
            return
        msg = frame["msg"]
        ticker = msg["market_ticker"]
        if frame["type"] == "orderbook_snapshot":
            for side in ("yes", "no"):
                ladder: dict[int, int] = {}
                for price, count in msg.get(f"{side}_dollars_fp", []):
                    ladder[self._price(side, price)] = parse_qty(count)
                self.levels[(ticker, side)] = ladder
        elif frame["type"] == "orderbook_delta":
            side = msg["side"]
            ladder = self.levels[(ticker, side)]
            price = self._price(side, msg["price_dollars"])
            size = ladder.get(price, 0) + parse_qty(msg["delta_fp"])
            assert size >= 0, f"level {side} {msg['price_dollars']} of {ticker} went negative: {frame}"
            if size:
                ladder[price] = size
            else:
                ladder.pop(price, None)

    def _price(self, side: str, text: str) -> int:
        price = parse_price(text)
        return complement(price) if self.use_yes_price and side == "no" else price

    def orderbook_fp(self, ticker: str) -> dict[str, list[list[str]]]:
        """The book as ``GET /markets/{ticker}/orderbook`` reports it (``orderbook_fp``)."""
        return {
            f"{side}_dollars": [
                [format_price(p), format_qty(q)] for p, q in sorted(self.levels.get((ticker, side), {}).items())
            ]
            for side in ("yes", "no")
        }


UNKNOWN_MARKET_ID = "00000000-0000-4000-8000-000000000999"


def _sub(**params: Any) -> dict[str, Any]:
    return {"id": 1, "cmd": "subscribe", "params": params}


def _upd(**params: Any) -> dict[str, Any]:
    return {"id": 1, "cmd": "update_subscription", "params": params}


def _unsub(**params: Any) -> dict[str, Any]:
    return {"id": 1, "cmd": "unsubscribe", "params": params}


def bad_commands(a: str, b: str) -> list[tuple[str, Any, int]]:
    """(name, command, expected error code) for every error a command can provoke; ``a``/``b`` are
    two existing markets. The commands assume the connection first subscribed ``orderbook_delta``,
    ``ticker`` and ``market_lifecycle_v2`` for ``a`` (sids 1, 2, 3). Strings are sent raw."""
    comm = ["communications"]
    return [
        ("bad json", "{not json", 1),
        ("not an object", "[1, 2]", 1),
        ("id not an int", {"id": "x", "cmd": "list_subscriptions"}, 1),
        ("cmd not a string", {"id": 1, "cmd": 5, "params": {}}, 1),
        ("negative id", {"id": -1, "cmd": "list_subscriptions"}, 1),
        ("params not an object", {"id": 1, "cmd": "subscribe", "params": [1]}, 1),
        ("channels not a list", _sub(channels="ticker"), 1),
        ("bool flag wrong type", _sub(channels=["ticker"], skip_ticker_ack=1), 1),
        ("sids of strings", _unsub(sids=["a"]), 1),
        ("no params", {"id": 1, "cmd": "subscribe"}, 2),
        ("no params (update)", {"id": 1, "cmd": "update_subscription"}, 2),
        ("null params", {"id": 1, "cmd": "unsubscribe", "params": None}, 2),
        ("no channels", _sub(), 3),
        ("empty channels", _sub(channels=[]), 3),
        ("no sids", _unsub(), 4),
        ("empty sids", _unsub(sids=[]), 4),
        ("unknown cmd", {"id": 1, "cmd": "subscribe_all", "params": {}}, 5),
        ("missing cmd", {"id": 1, "params": {}}, 5),
        ("unknown sid (unsubscribe)", _unsub(sids=[1, 99]), 7),
        ("unknown sid (update)", _upd(sid=99, action="add_markets"), 7),
        ("unknown channel", _sub(channels=["ticker", "ticker_v2"]), 8),
        ("index feed", _sub(channels=["pyth_value"]), 9),
        ("both ticker forms", _sub(channels=["ticker"], market_ticker=a, market_tickers=[b]), 11),
        ("empty tickers", _sub(channels=["trade"], market_tickers=[]), 11),
        ("ids on orderbook", _sub(channels=["orderbook_delta"], market_id="00000000-0000-4000-8000-000000000001"), 11),
        ("malformed market id", _sub(channels=["ticker"], market_id="nope"), 11),
        ("single ticker on get_snapshot", _upd(sid=1, action="get_snapshot", market_ticker=a), 11),
        ("two sids", _upd(sids=[1, 2], action="add_markets"), 12),
        ("sid and sids", _upd(sid=1, sids=[1], action="add_markets"), 12),
        ("no sid", _upd(action="add_markets"), 12),
        ("unknown action", _upd(sid=1, action="replace", market_ticker=a), 13),
        ("snapshot on ticker", _upd(sid=2, action="get_snapshot", market_tickers=[a]), 13),
        ("update lifecycle", _upd(sid=3, action="add_markets", market_tickers=[a]), 13),
        ("orderbook without market", _sub(channels=["orderbook_delta"]), 14),
        ("update without market", _upd(sid=1, action="add_markets"), 14),
        ("no action", _upd(sid=1), 15),
        ("unknown market", _sub(channels=["orderbook_delta", "ticker"], market_tickers=[a, "NOPE-1"]), 11),
        ("unknown market id", _sub(channels=["ticker"], market_ids=[UNKNOWN_MARKET_ID]), 11),
        ("unknown market (update)", _upd(sid=1, action="add_markets", market_tickers=["NOPE-1"]), 11),
        ("shard_factor 0", _sub(channels=comm, shard_factor=0), 19),
        ("shard_key alone", _sub(channels=comm, shard_key=0), 20),
        ("shard_key too big", _sub(channels=comm, shard_factor=2, shard_key=2), 21),
        ("shard_factor too big", _sub(channels=comm, shard_factor=101), 22),
    ]
