"""Fault injection for the embedded exchange: what a flaky network and a struggling venue do.

Contract:
- ``FaultSpec.parse("ws_drop=0.01,seq_skip=0.001,http_429=0.05,latency_ms=20")`` reads a comma
  list of ``name=value``. Rates are probabilities in [0, 1] with at most 6 decimals, held exactly
  as parts per million; ``latency_ms`` is whole milliseconds (0..60000). ``""``, ``"none"`` and
  ``"off"`` mean no faults. Anything else (unknown name, missing ``=``, repeated name, bad value)
  raises ``FaultSpecError`` whose message names the culprit and the accepted forms. ``str(spec)``
  is the canonical spec (only the non-zero entries, or ``"none"``), and parses back to the same spec.
- Faults, all off by default:

  ==============  ===========================================================================
  ``ws_drop``     per WS frame about to be written: close the connection (going away) instead
  ``malformed``   per WS frame: write its first half instead (invalid JSON)
  ``seq_skip``    per sequenced data frame (books, trades, lifecycle, order groups): swallow it
  ``seq_repeat``  per sequenced data frame: write it twice
  ``http_429``    per REST request: answer 429 ``{"error": "too many requests"}`` before anything
                  runs (no tokens taken, nothing executed)
  ``http_5xx``    per REST request: answer 500/502/503 with an error body, nothing executed
  ``lost_response`` per REST request: run it to completion, then drop the connection unanswered
  ``latency_ms``  every REST request waits this long before it is handled
  ==============  ===========================================================================

  A faulted WS frame still consumed its ``seq`` on the server, so a skipped frame is a real gap;
  the exchange's own state (books, orders, balances) is never touched by a WS or HTTP fault.
  REST faults apply under ``/trade-api/v2`` only, never to the WS upgrade or ``/admin``.
- Determinism: decisions come from two ``random.Random`` streams seeded from the exchange seed
  (one for REST requests, one for WS frames), drawn only for the faults that are on, in a fixed
  order. The same seed, spec and sequence of requests/frames give the same faults.
- ``FaultInjector`` holds the current spec (``spec`` / ``set_spec``, switchable at run time),
  counts what it injected (``injected``), is the ``Feed.frame_hook`` while a WS fault is on (and
  detaches itself otherwise, so a fault-free feed pays nothing), and provides the aiohttp
  ``middleware`` (outermost). ``arm(kind, method=, path=, count=)`` queues one-shot REST faults
  for exact requests (tests: "lose the response of the next create"); besides the rate-based
  kinds it takes ``http_403`` (403 ``forbidden``) and ``http_503`` (503 ``service_unavailable``),
  the answers create and amend document, nothing executed. ``swallow(frame_type, count=)`` drops
  the next ``count`` WebSocket frames of that ``type`` (e.g. ``"trade"``: a seq gap on the trade
  channel), whatever the spec says; ``disarm()`` drops every pending one-shot.
- Pausing a market is ``sim/api/admin.py``'s (``POST /admin/markets/{ticker}/pause|resume``).
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Final, Literal

from aiohttp import web

from kalshi_trader.sim.api.rest_support import error_response, rate_limited_response

if TYPE_CHECKING:
    from kalshi_trader.sim.api.application import Handler
    from kalshi_trader.sim.api.ws_feed import Feed

PPM: Final = 1_000_000
MAX_LATENCY_MS: Final = 60_000
REST_PREFIX: Final = "/trade-api/v2/"

HttpFault = Literal["http_429", "http_5xx", "lost_response", "http_403", "http_503"]
HTTP_FAULTS: Final[tuple[HttpFault, ...]] = ("http_429", "http_5xx", "lost_response", "http_403", "http_503")

_RATE_RE = re.compile(r"^(?:0|1)?(?:\.\d{1,6})?$")
_SEQUENCED_FRAME = re.compile(rb'^\{"type":"[a-z_]+","sid":\d+,"seq":\d+,')
_FRAME_TYPE = re.compile(rb'^\{"type":"([a-z_0-9]+)"')
_5XX: Final = (
    (500, "internal_error", "internal server error"),
    (502, "bad_gateway", "bad gateway"),
    (503, "service_unavailable", "service unavailable"),
)


class FaultSpecError(ValueError):
    """A fault spec string that cannot be used; the message says why."""


def _format_rate(ppm: int) -> str:
    whole, frac = divmod(ppm, PPM)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")


def _parse_rate(name: str, text: str) -> int:
    if not text or text == "." or not _RATE_RE.match(text):
        raise FaultSpecError(
            f"{name} must be a probability from 0 to 1 with at most 6 decimals (e.g. 0.01), got {text!r}"
        )
    whole, _, frac = text.partition(".")
    ppm = int(whole or "0") * PPM + int(frac.ljust(6, "0"))
    if ppm > PPM:
        raise FaultSpecError(f"{name} must be a probability from 0 to 1, got {text!r}")
    return ppm


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Which faults are on and how often (rates in parts per million; see the module docstring)."""

    ws_drop: int = 0
    seq_skip: int = 0
    seq_repeat: int = 0
    malformed: int = 0
    http_429: int = 0
    http_5xx: int = 0
    lost_response: int = 0
    latency_ms: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            hi = MAX_LATENCY_MS if f.name == "latency_ms" else PPM
            if not 0 <= value <= hi:
                raise FaultSpecError(f"{f.name} must be within 0..{hi}, got {value}")

    @staticmethod
    def names() -> tuple[str, ...]:
        return tuple(f.name for f in fields(FaultSpec))

    @staticmethod
    def parse(text: str) -> FaultSpec:
        """Parse ``name=value[,name=value...]`` (see the module docstring)."""
        spec = text.strip()
        if spec.lower() in ("", "none", "off"):
            return FaultSpec()
        known = FaultSpec.names()
        values: dict[str, int] = {}
        for raw in spec.split(","):
            item = raw.strip()
            name, sep, value = (part.strip() for part in item.partition("="))
            if not sep or not name:
                raise FaultSpecError(
                    f"fault {item!r} is not name=value (e.g. http_429=0.05); faults: {', '.join(known)}"
                )
            if name not in known:
                raise FaultSpecError(f"unknown fault {name!r}; faults: {', '.join(known)}")
            if name in values:
                raise FaultSpecError(f"fault {name!r} is given twice")
            if name == "latency_ms":
                if not value.isdigit() or int(value) > MAX_LATENCY_MS:
                    raise FaultSpecError(
                        f"latency_ms must be whole milliseconds from 0 to {MAX_LATENCY_MS}, got {value!r}"
                    )
                values[name] = int(value)
            else:
                values[name] = _parse_rate(name, value)
        return FaultSpec(**values)

    def __str__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value:
                parts.append(f"{f.name}={value if f.name == 'latency_ms' else _format_rate(value)}")
        return ",".join(parts) or "none"

    def as_dict(self) -> dict[str, str]:
        """Every fault with its value as written in a spec (``"0.01"``, ``"20"``)."""
        return {
            f.name: str(getattr(self, f.name)) if f.name == "latency_ms" else _format_rate(getattr(self, f.name))
            for f in fields(self)
        }

    @property
    def ws_active(self) -> bool:
        return bool(self.ws_drop or self.seq_skip or self.seq_repeat or self.malformed)

    @property
    def http_active(self) -> bool:
        return bool(self.http_429 or self.http_5xx or self.lost_response or self.latency_ms)


@dataclass(slots=True)
class _Shot:
    kind: HttpFault
    method: str | None
    path: str | None
    count: int

    def matches(self, request: web.Request) -> bool:
        return (self.method is None or request.method == self.method) and (
            self.path is None or request.path == self.path
        )


def _stream(seed: int | None, name: str) -> random.Random:
    return random.Random(f"{seed}:faults:{name}") if seed is not None else random.Random()


class FaultInjector:
    """The exchange's fault switchboard (see the module docstring)."""

    def __init__(self, seed: int | None = None, *, feed: Feed | None = None, spec: FaultSpec | None = None) -> None:
        self._http_rng = _stream(seed, "http")
        self._ws_rng = _stream(seed, "ws")
        self._feed = feed
        self._shots: list[_Shot] = []
        self._swallow: Counter[bytes] = Counter()
        """Frame type → frames of it still to swallow (one-shot WS faults)."""
        self.injected: Counter[str] = Counter()
        self._spec = FaultSpec()
        self.set_spec(spec or FaultSpec())

    @property
    def spec(self) -> FaultSpec:
        return self._spec

    def set_spec(self, spec: FaultSpec) -> None:
        """Switch faults (takes effect with the next request / frame)."""
        self._spec = spec
        self._attach()

    def _attach(self) -> None:
        """Be the feed's frame hook exactly while a WS fault is on or armed."""
        if self._feed is not None:
            self._feed.frame_hook = self if self._spec.ws_active or self._swallow else None

    def update(self, **rates: int) -> None:
        """Change some faults, keeping the others."""
        self.set_spec(replace(self._spec, **rates))

    def arm(self, kind: HttpFault, *, method: str | None = None, path: str | None = None, count: int = 1) -> None:
        """Inject ``kind`` into the next ``count`` REST requests matching ``method`` and exact ``path``
        (before the rate-based faults are drawn)."""
        if kind not in HTTP_FAULTS:
            raise ValueError(f"one-shot faults are {', '.join(HTTP_FAULTS)}, not {kind!r}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._shots.append(_Shot(kind, method.upper() if method else None, path, count))

    def swallow(self, frame_type: str, *, count: int = 1) -> None:
        """Drop the next ``count`` WebSocket frames whose ``type`` is ``frame_type`` (any connection)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        self._swallow[frame_type.encode()] += count
        self._attach()

    def disarm(self) -> None:
        """Drop every pending one-shot fault."""
        self._shots.clear()
        self._swallow.clear()
        self._attach()

    @staticmethod
    def _hit(rng: random.Random, ppm: int) -> bool:
        return rng.randrange(PPM) < ppm

    # -- WebSocket (Feed.frame_hook) ------------------------------------------------------------

    def on_send(self, conn_id: int, user_id: str, frame: bytes) -> Sequence[bytes] | None:
        if self._swallow:
            kind = _FRAME_TYPE.match(frame)
            if kind is not None and self._swallow[kind.group(1)] > 0:
                self._swallow[kind.group(1)] -= 1
                self._swallow += Counter()  # drop the types used up
                self.injected["swallowed"] += 1
                self._attach()
                return ()
        spec, rng = self._spec, self._ws_rng
        if spec.ws_drop and self._hit(rng, spec.ws_drop):
            self.injected["ws_drop"] += 1
            return None
        if spec.malformed and self._hit(rng, spec.malformed):
            self.injected["malformed"] += 1
            return (frame[: max(1, len(frame) // 2)],)
        if (spec.seq_skip or spec.seq_repeat) and _SEQUENCED_FRAME.match(frame):
            if spec.seq_skip and self._hit(rng, spec.seq_skip):
                self.injected["seq_skip"] += 1
                return ()
            if spec.seq_repeat and self._hit(rng, spec.seq_repeat):
                self.injected["seq_repeat"] += 1
                return (frame, frame)
        return (frame,)

    # -- REST (aiohttp middleware) --------------------------------------------------------------

    def _http_fault(self, request: web.Request) -> HttpFault | None:
        for i, shot in enumerate(self._shots):
            if shot.matches(request):
                shot.count -= 1
                if shot.count == 0:
                    del self._shots[i]
                return shot.kind
        spec, rng = self._spec, self._http_rng
        if spec.http_429 and self._hit(rng, spec.http_429):
            return "http_429"
        if spec.http_5xx and self._hit(rng, spec.http_5xx):
            return "http_5xx"
        if spec.lost_response and self._hit(rng, spec.lost_response):
            return "lost_response"
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(REST_PREFIX) or not (self._spec.http_active or self._shots):
            return await handler(request)
        if self._spec.latency_ms:
            await asyncio.sleep(self._spec.latency_ms / 1000)
        kind = self._http_fault(request)
        if kind is None:
            return await handler(request)
        self.injected[kind] += 1
        if kind == "http_429":
            return rate_limited_response()
        if kind == "http_5xx":
            status, code, message = self._http_rng.choice(_5XX)
            return error_response(status, code, f"injected fault: {message}")
        if kind == "http_403":
            return error_response(403, "forbidden", "injected fault: forbidden")
        if kind == "http_503":
            return error_response(503, "service_unavailable", "injected fault: service unavailable")
        response = await handler(request)  # lost_response: executed in full, answer never sent
        transport = request.transport
        if transport is not None:
            transport.abort()
        return response
