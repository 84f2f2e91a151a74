"""Async REST client for Kalshi's Trade API v2 (production, demo or the embedded exchange).

Contract:
- ``KalshiRest(base_url, signer, tier=..., timeout_s=...)`` talks to ``base_url`` (ending in
  ``/trade-api/v2``) over one pooled ``aiohttp`` session (keep-alive, ``max_connections``), with a
  total per-attempt timeout. ``KalshiRest.from_settings(settings)`` builds one from ``config``.
  Use it as an async context manager or call ``close()``. One event loop per client.
- Every endpoint the bot uses has a method returning the ``kalshi.schemas`` struct of its response
  (single-object wrappers unwrapped: ``get_market`` → ``Market``); list endpoints also have
  ``iter_*`` async iterators that follow ``cursor`` until it is empty. ``kalshi.convert`` maps the
  structs to domain values.
- Signing: when a ``Signer`` is given every request is signed (public ones too, harmlessly, so
  they are billed to the key as the client budgets them), over the URL path without query; only
  ``probe`` (reachability and clock) goes unsigned. Nothing logged or raised ever contains
  headers, signatures or keys. ``presign_orders()`` has the signer keep pre-signed headers for
  order creates (``Signer.prepare``): a create then takes them instead of signing inline, and the
  next ones are signed just after it was sent (``loop.call_soon``; on a new connection that may run
  before the request is written). ``keep_presigned(every_s)`` runs until cancelled and refreshes
  them (``Signer.refresh``) so fresh ones are always ready.
- Rate limits: each request first acquires its documented cost from a ``ClientRateLimiter``
  (``kalshi/limits.py``) for the configured tier, in every bucket it bills (read; or the write
  buckets ``limits.scopes_for`` names: order writes are auto-routed by their market ticker and so
  billed to every shard's), so a client that is the only user of its key never earns a 429. Share
  one limiter between clients of the same key. A batch larger than the bucket raises
  ``ValueError`` before anything is sent.
- Routing: a create or amend names its ticker; cancels (single, batch) and decreases send
  ``market_ticker`` when given it — without one Kalshi routes to shard 0 and cannot find an order
  on another shard. ``cancel_all`` (``DELETE /portfolio/events/orders``) cancels every resting
  order on every shard (204, 2 tokens).
- Retries (``RetryPolicy``: at most ``max_retries`` = 3 retries, exponential backoff with jitter)
  only where repeating is safe: every GET, cancels (single and batch) and creates (single and
  batch), which always carry a ``client_order_id`` (a UUID4 is generated when the caller gives
  none; ``convert.create_request`` always sets one, so the caller knows it and can reconcile an
  order whose every attempt failed ambiguously). They retry transport errors, timeouts, 429 and
  5xx. Amend, decrease and order-group writes are retried only after a 429, which Kalshi
  documents as "nothing executed"; any other failure of theirs is raised at once. 4xx other than
  429 is never retried.
- A create retried after an ambiguous failure (transport error, timeout, 5xx) that then gets 409
  resolves to the order the first attempt created: it is looked up by ``client_order_id`` via
  ``GET /portfolio/orders`` (filtered by ticker) and returned as an ack with its current counts —
  never a second order. Batch creates do the same per item.
- A cancel retried after a lost response may answer 404 (the first attempt already canceled it);
  that is raised as ``NotFoundError`` (batch: the item's error) — the order is not resting, which is
  what the caller wanted; reconcile through the order or the WS ``user_orders`` stream.
- Errors are ``kalshi.errors`` types carrying Kalshi's code/message/details. 503
  (``ServiceUnavailableError``) is retried like any 5xx where repeating is safe; 403
  (``PermissionDeniedError``) never is.
- aiohttp itself re-sends a GET/PUT/DELETE once, transparently, when a pooled keep-alive
  connection turns out to be closed before any response; all such calls here are idempotent.
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypedDict, TypeVar, Unpack, cast
from urllib.parse import quote, urlsplit

import aiohttp
import msgspec
import structlog

from kalshi_trader.config import Settings
from kalshi_trader.domain import Qty, format_qty, parse_price
from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.auth import KeyFileError, Signer
from kalshi_trader.kalshi.convert import new_client_order_id, ts_ms
from kalshi_trader.kalshi.errors import (
    ConflictError,
    KalshiError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    error_from_response,
)
from kalshi_trader.kalshi.limits import (
    DEFAULT_TIER,
    REST_PREFIX,
    ClientRateLimiter,
    Tier,
    bucket_for,
    cost_for,
    scopes_for,
    tier_named,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item of a listing
P = TypeVar("P")

USER_AGENT = "kalshi-trader/0.1"
CREATE_ORDER_ROUTE = "/portfolio/events/orders"
PRESIGN_REFRESH_S = 0.05
"""How often ``keep_presigned`` refreshes pre-signed headers: well inside ``PRESIGNED_MAX_AGE_MS``
(one Ed25519 signature, about 25 µs, every 50 ms costs about 0.05% of a CPU)."""
QueryValue = str | int | bool | Sequence[str] | None


class AccountWindow(TypedDict, total=False):
    """Filters of ``GET /historical/fills`` and ``/historical/orders`` (times in unix seconds)."""

    limit: int | None
    cursor: str | None
    ticker: str | None
    min_ts: int | None
    max_ts: int | None
    subaccount: int | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most ``max_retries`` retries; the n-th waits a random time in [d/2, d] with
    d = min(max_delay_s, base_delay_s × 2^n) ("equal jitter")."""

    max_retries: int = 3
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def delay_s(self, retry: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0**retry)
        return ceiling / 2 + rng.random() * ceiling / 2


class _Mode(enum.Enum):
    SAFE = "safe"
    """Reads and cancels: retried on transport errors, timeouts, 429 and 5xx."""
    CREATE = "create"
    """Creates with a client_order_id: retried like SAFE; a 409 after an ambiguous failure resolves."""
    UNSAFE = "unsafe"
    """Everything else: retried only after 429."""


@dataclass(frozen=True, slots=True)
class Probe:
    """``GET /exchange/status`` with timing: ``server_ms`` is the response's ``Date`` header (whole
    seconds, so ``skew_ms`` is exact to about ±1 s), ``local_ms`` the local clock midway through the
    round trip of ``rtt_ms``."""

    status: w.ExchangeStatus
    server_ms: int | None
    local_ms: int
    rtt_ms: int

    @property
    def skew_ms(self) -> int | None:
        """Server clock minus local clock (None without a ``Date`` header)."""
        return None if self.server_ms is None else self.server_ms - self.local_ms


@dataclass(slots=True)
class _Outcome:
    status: int
    body: bytes
    headers: Mapping[str, str]


def encode_query(values: Mapping[str, QueryValue]) -> dict[str, str]:
    """Query parameters as Kalshi reads them: None dropped, booleans ``true``/``false``, lists
    comma-joined."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, int):
            out[name] = str(value)
        elif isinstance(value, str):
            out[name] = value
        else:
            out[name] = ",".join(value)
    return out


def _seg(value: str) -> str:
    return quote(value, safe="")


def signer_from_settings(settings: Settings, *, required: bool = False) -> Signer | None:
    """The request signer for ``settings``' API key, or None when no key is configured.

    The key id is ``api.key_id``; for the embedded exchange (``env sim`` or an explicit ``api.url``)
    it falls back to the data dir's ``api-key-id``. A configured id whose key file is missing or
    unusable (an encrypted key needs ``api.key_passphrase``) raises ``KeyFileError``; so does a
    missing id when ``required``."""
    key_id = settings.api.key_id
    if not key_id and (settings.api.env == "sim" or settings.api.url):
        key_id = settings.key_id()
    if not key_id:
        if required:
            raise KeyFileError(
                "no API key id: pass --key-id (and --key-file) or set KALSHI_TRADER_API__KEY_ID; for the "
                f"embedded exchange, point --data-dir at the directory holding api-key-id (now {settings.data_dir})"
            )
        return None
    secret = settings.api.key_passphrase
    passphrase = None if secret is None else secret.get_secret_value()
    return Signer.from_files(key_id, settings.key_file(), passphrase=passphrase)


class KalshiRest:
    """The REST client (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        signer: Signer | None = None,
        *,
        tier: Tier | str = DEFAULT_TIER,
        timeout_s: float = 10.0,
        limiter: ClientRateLimiter | None = None,
        retry: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = 32,
        rng: random.Random | None = None,
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"API URL {base_url!r} is not an http(s) URL such as https://host/trade-api/v2")
        self.base_url = base_url.rstrip("/")
        self._base_path = parts.path
        self.signer = signer
        resolved = tier_named(tier) if isinstance(tier, str) else tier
        self.limiter = limiter if limiter is not None else ClientRateLimiter(resolved)
        self.retry = retry if retry is not None else RetryPolicy()
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session = session
        self._own_session = session is None
        self._max_connections = max_connections
        self._rng = rng if rng is not None else random.Random()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, require_key: bool = False, limiter: ClientRateLimiter | None = None
    ) -> KalshiRest:
        """A client for ``settings``' REST URL, tier, timeout and key (see ``signer_from_settings``)."""
        return cls(
            settings.rest_url(),
            signer_from_settings(settings, required=require_key),
            tier=settings.api.tier,
            timeout_s=settings.api.timeout_s,
            limiter=limiter,
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300),
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            )
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> KalshiRest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        key = self.signer.key_id if self.signer is not None else None
        return f"KalshiRest({self.base_url!r}, key_id={key!r}, tier={self.limiter.tier.name!r})"

    # -- pre-signed headers ---------------------------------------------------------------------

    def presign_orders(self) -> None:
        """Keep pre-signed headers for order creates from now on (see the module docstring)."""
        if self.signer is not None:
            self.signer.prepare("POST", self._base_path + CREATE_ORDER_ROUTE)

    async def keep_presigned(self, every_s: float = PRESIGN_REFRESH_S) -> None:
        """Pre-sign order creates and refresh their headers every ``every_s`` until cancelled."""
        self.presign_orders()
        while self.signer is not None:
            await asyncio.sleep(every_s)
            self.signer.refresh()

    # -- transport ------------------------------------------------------------------------------

    async def _send(
        self, method: str, path: str, query: Mapping[str, str], body: bytes | None, *, sign: bool = True
    ) -> _Outcome:
        """One attempt; ``path`` is relative to the base URL. Raises ``TransportError``."""
        full_path = self._base_path + path
        headers: dict[str, str] = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        signer = self.signer if sign else None
        if signer is not None:
            headers.update(signer.headers(method, full_path))
            if signer.prepared(method, full_path):
                asyncio.get_running_loop().call_soon(signer.prepare, method, full_path)
        try:
            async with self._http().request(
                method, self.base_url + path, params=query or None, data=body, headers=headers, timeout=self._timeout
            ) as resp:
                raw = await resp.read()
                return _Outcome(resp.status, raw, resp.headers)
        except TimeoutError:
            raise RequestTimeoutError(
                f"no response within {self._timeout.total:g} s", method=method, path=full_path
            ) from None
        except aiohttp.ClientError as exc:
            unreachable = isinstance(exc, aiohttp.ClientConnectorError)
            raise TransportError(
                f"{type(exc).__name__}: {exc}", unreachable=unreachable, method=method, path=full_path
            ) from None

    def _decode(self, decoder: msgspec.json.Decoder[T], outcome: _Outcome, method: str, path: str) -> T:
        raw = outcome.body if outcome.body.strip() else b"{}"
        try:
            return decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UnexpectedResponseError(
                f"response body does not match the documented schema: {exc}",
                status=outcome.status,
                method=method,
                path=self._base_path + path,
            ) from None

    async def _call(
        self,
        method: str,
        route: str,
        response: type[T],
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, QueryValue] | None = None,
        body: Any = None,
        mode: _Mode = _Mode.SAFE,
        items: int = 1,
        routed: bool = False,
    ) -> tuple[T, bool]:
        """Send with budgeting and retries; returns the decoded body and whether an earlier attempt
        failed ambiguously (transport error or 5xx: it may have been executed). ``routed``: the
        request names its market ticker (auto-routed, billed to every shard's write bucket)."""
        path = route.format(**{k: _seg(v) for k, v in (path_params or {}).items()})
        full_route = REST_PREFIX + route
        bucket = bucket_for(method, full_route)
        cost = cost_for(method, full_route, items)
        scopes = scopes_for(method, full_route, by_ticker=routed)
        self.limiter.check_fits(bucket, cost)
        params = encode_query(query or {})
        payload = w.ENCODER.encode(body) if body is not None else None
        decoder = w.decoder_for(response)
        ambiguous = False
        retry = 0
        while True:
            held = await self.limiter.acquire(bucket, cost, scopes)
            error: KalshiError
            try:
                outcome = await self._send(method, path, params, payload)
            except TransportError as exc:
                error, retryable, maybe_done = exc, mode is not _Mode.UNSAFE, True
            else:
                if 200 <= outcome.status < 300:
                    return self._decode(decoder, outcome, method, path), ambiguous
                error = error_from_response(outcome.status, outcome.body, method=method, path=self._base_path + path)
                maybe_done = isinstance(error, ServerError)
                if outcome.status == 429:
                    self.limiter.penalize(bucket, scopes)
                    retryable = True
                else:
                    retryable = maybe_done and mode is not _Mode.UNSAFE
            finally:
                self.limiter.release(held)  # answered, failed or cancelled: the server has seen it, or never will
            if ambiguous and mode is _Mode.CREATE and isinstance(error, ConflictError):
                raise _Resolve(error)
            if not retryable or retry >= self.retry.max_retries:
                raise error
            ambiguous = ambiguous or maybe_done
            delay = self.retry.delay_s(retry, self._rng)
            retry += 1
            log.info("kalshi_retry", method=method, path=path, retry=retry, error=str(error), delay_s=round(delay, 3))
            await asyncio.sleep(delay)

    async def _get(self, route: str, response: type[T], **kw: Any) -> T:
        value, _ = await self._call("GET", route, response, **kw)
        return value

    async def _pages(
        self,
        fetch: Callable[[str | None], Awaitable[P]],
        items: Callable[[P], list[I]],
        cursor: Callable[[P], str | w.UnsetType],
    ) -> AsyncIterator[I]:
        seen: set[str] = set()
        after: str | None = None
        while True:
            page = await fetch(after)
            for item in items(page):
                yield item
            nxt = cursor(page)
            if not isinstance(nxt, str) or not nxt:
                return
            if nxt in seen:
                raise UnexpectedResponseError(f"the server repeated cursor {nxt!r}; stopping to avoid a loop")
            seen.add(nxt)
            after = nxt

    # -- exchange -------------------------------------------------------------------------------

    async def get_exchange_status(self) -> w.ExchangeStatus:
        return await self._get("/exchange/status", w.ExchangeStatus)

    async def get_exchange_schedule(self) -> w.Schedule:
        return (await self._get("/exchange/schedule", w.GetExchangeScheduleResponse)).schedule

    async def probe(self) -> Probe:
        """One unretried, unsigned ``GET /exchange/status``, timed, with the server's ``Date`` (for
        reachability and clock checks, independent of the key)."""
        route = "/exchange/status"
        full_route = REST_PREFIX + route
        held = await self.limiter.acquire(bucket_for("GET", full_route), cost_for("GET", full_route))
        start_ns = time.time_ns()
        try:
            outcome = await self._send("GET", route, {}, None, sign=False)
        finally:
            self.limiter.release(held)
        end_ns = time.time_ns()
        if not 200 <= outcome.status < 300:
            raise error_from_response(outcome.status, outcome.body, method="GET", path=self._base_path + route)
        status = self._decode(w.decoder_for(w.ExchangeStatus), outcome, "GET", route)
        server_ms: int | None = None
        date = outcome.headers.get("Date")
        if date:
            try:
                server_ms = int(parsedate_to_datetime(date).timestamp()) * 1000
            except (TypeError, ValueError):
                server_ms = None
        return Probe(status, server_ms, (start_ns + end_ns) // 2_000_000, (end_ns - start_ns) // 1_000_000)

    # -- account --------------------------------------------------------------------------------

    async def get_account_limits(self) -> w.GetAccountApiLimitsResponse:
        """The key's rate-limit tier and buckets as the exchange bills them."""
        return await self._get("/account/limits", w.GetAccountApiLimitsResponse)

    async def get_endpoint_costs(self) -> w.GetAccountEndpointCostsResponse:
        return await self._get("/account/endpoint_costs", w.GetAccountEndpointCostsResponse)

    # -- series, events, markets ----------------------------------------------------------------

    async def get_series_list(
        self, *, category: str | None = None, tags: Sequence[str] | None = None, include_volume: bool | None = None
    ) -> w.GetSeriesListResponse:
        query = {"category": category, "tags": tags, "include_volume": include_volume}
        return await self._get("/series", w.GetSeriesListResponse, query=query)

    async def get_series(self, series_ticker: str, *, include_volume: bool | None = None) -> w.Series:
        response = await self._get(
            "/series/{t}",
            w.GetSeriesResponse,
            path_params={"t": series_ticker},
            query={"include_volume": include_volume},
        )
        return response.series

    async def get_events(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        status: str | None = None,
        series_ticker: str | None = None,
        tickers: Sequence[str] | None = None,
        with_nested_markets: bool | None = None,
        min_close_ts: int | None = None,
    ) -> w.GetEventsResponse:
        query: dict[str, QueryValue] = {
            "limit": limit,
            "cursor": cursor,
            "status": status,
            "series_ticker": series_ticker,
            "tickers": tickers,
            "with_nested_markets": with_nested_markets,
            "min_close_ts": min_close_ts,
        }
        return await self._get("/events", w.GetEventsResponse, query=query)

    def iter_events(self, *, page_size: int = 200, **filters: Any) -> AsyncIterator[w.EventData]:
        """Every event matching ``filters`` (``get_events`` keywords), across pages."""
        return self._pages(
            lambda c: self.get_events(limit=page_size, cursor=c, **filters), lambda p: p.events, lambda p: p.cursor
        )

    async def get_event(self, event_ticker: str, *, with_nested_markets: bool | None = None) -> w.GetEventResponse:
        return await self._get(
            "/events/{t}",
            w.GetEventResponse,
            path_params={"t": event_ticker},
            query={"with_nested_markets": with_nested_markets},
        )

    async def get_markets(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        event_ticker: str | None = None,
        series_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] | None = None,
        min_close_ts: int | None = None,
        max_close_ts: int | None = None,
        min_updated_ts: int | None = None,
        max_updated_ts: int | None = None,
        mve_filter: str | None = None,
    ) -> w.GetMarketsResponse:
        """``status`` is a filter value: unopened | open | paused | closed | settled."""
        query: dict[str, QueryValue] = {
            "limit": limit,
            "cursor": cursor,
            "event_ticker": event_ticker,
            "series_ticker": series_ticker,
            "status": status,
            "tickers": tickers,
            "min_close_ts": min_close_ts,
            "max_close_ts": max_close_ts,
            "min_updated_ts": min_updated_ts,
            "max_updated_ts": max_updated_ts,
            "mve_filter": mve_filter,
        }
        return await self._get("/markets", w.GetMarketsResponse, query=query)

    def iter_markets(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Market]:
        """Every market matching ``filters`` (``get_markets`` keywords), across pages."""
        return self._pages(
            lambda c: self.get_markets(limit=page_size, cursor=c, **filters), lambda p: p.markets, lambda p: p.cursor
        )

    async def get_market(self, ticker: str) -> w.Market:
        return (await self._get("/markets/{t}", w.GetMarketResponse, path_params={"t": ticker})).market

    async def get_orderbook(self, ticker: str, *, depth: int | None = None) -> w.OrderbookCountFp:
        """Both bid ladders (``convert.orderbook`` → sorted ``(Price, Qty)`` levels)."""
        response = await self._get(
            "/markets/{t}/orderbook", w.GetMarketOrderbookResponse, path_params={"t": ticker}, query={"depth": depth}
        )
        return response.orderbook_fp

    async def get_trades(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        ticker: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
    ) -> w.GetTradesResponse:
        query: dict[str, QueryValue] = {
            "limit": limit,
            "cursor": cursor,
            "ticker": ticker,
            "min_ts": min_ts,
            "max_ts": max_ts,
        }
        return await self._get("/markets/trades", w.GetTradesResponse, query=query)

    def iter_trades(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Trade]:
        return self._pages(
            lambda c: self.get_trades(limit=page_size, cursor=c, **filters), lambda p: p.trades, lambda p: p.cursor
        )

    # -- candlesticks and the historical tier -----------------------------------------------------
    # Records older than ``GET /historical/cutoff`` are served only by the ``/historical`` routes
    # (``kalshi.history`` reads an account's past across both tiers).

    async def get_market_candlesticks(
        self,
        series_ticker: str,
        ticker: str,
        *,
        start_ts: int,
        end_ts: int,
        period_interval: int,
        include_latest_before_start: bool | None = None,
    ) -> w.GetMarketCandlesticksResponse:
        """Candles of a live market ending in ``[start_ts, end_ts]`` (unix seconds); ``period_interval``
        is 1, 60 or 1440 minutes (``convert.candle``)."""
        query: dict[str, QueryValue] = {
            "start_ts": start_ts,
            "end_ts": end_ts,
            "period_interval": period_interval,
            "include_latest_before_start": include_latest_before_start,
        }
        return await self._get(
            "/series/{s}/markets/{t}/candlesticks",
            w.GetMarketCandlesticksResponse,
            path_params={"s": series_ticker, "t": ticker},
            query=query,
        )

    async def get_candlesticks_batch(
        self,
        tickers: Sequence[str],
        *,
        start_ts: int,
        end_ts: int,
        period_interval: int,
        include_latest_before_start: bool | None = None,
    ) -> w.BatchGetMarketCandlesticksResponse:
        """Candles of up to 100 live markets at once (10,000 candles at most in all)."""
        query: dict[str, QueryValue] = {
            "market_tickers": tickers,
            "start_ts": start_ts,
            "end_ts": end_ts,
            "period_interval": period_interval,
            "include_latest_before_start": include_latest_before_start,
        }
        return await self._get("/markets/candlesticks", w.BatchGetMarketCandlesticksResponse, query=query)

    async def get_historical_cutoff(self) -> w.GetHistoricalCutoffResponse:
        """Where the live data set ends (``convert.historical_cutoff``)."""
        return await self._get("/historical/cutoff", w.GetHistoricalCutoffResponse)

    async def get_historical_markets(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        tickers: Sequence[str] | None = None,
        event_ticker: str | None = None,
        series_ticker: str | None = None,
        mve_filter: str | None = None,
    ) -> w.GetMarketsResponse:
        """Archived (settled before the cutoff) markets; the three filters are mutually exclusive."""
        query: dict[str, QueryValue] = {
            "limit": limit,
            "cursor": cursor,
            "tickers": tickers,
            "event_ticker": event_ticker,
            "series_ticker": series_ticker,
            "mve_filter": mve_filter,
        }
        return await self._get("/historical/markets", w.GetMarketsResponse, query=query)

    def iter_historical_markets(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Market]:
        return self._pages(
            lambda c: self.get_historical_markets(limit=page_size, cursor=c, **filters),
            lambda p: p.markets,
            lambda p: p.cursor,
        )

    async def get_historical_market(self, ticker: str) -> w.Market:
        """An archived market (``NotFoundError`` if the ticker is not in the historical data set)."""
        return (await self._get("/historical/markets/{t}", w.GetMarketResponse, path_params={"t": ticker})).market

    async def get_historical_candlesticks(
        self, ticker: str, *, start_ts: int, end_ts: int, period_interval: int
    ) -> w.GetMarketCandlesticksHistoricalResponse:
        """Candles of an archived market (``convert.historical_candle``)."""
        query: dict[str, QueryValue] = {"start_ts": start_ts, "end_ts": end_ts, "period_interval": period_interval}
        return await self._get(
            "/historical/markets/{t}/candlesticks",
            w.GetMarketCandlesticksHistoricalResponse,
            path_params={"t": ticker},
            query=query,
        )

    async def get_historical_trades(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        ticker: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
    ) -> w.GetTradesResponse:
        query: dict[str, QueryValue] = {
            "limit": limit,
            "cursor": cursor,
            "ticker": ticker,
            "min_ts": min_ts,
            "max_ts": max_ts,
        }
        return await self._get("/historical/trades", w.GetTradesResponse, query=query)

    def iter_historical_trades(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Trade]:
        return self._pages(
            lambda c: self.get_historical_trades(limit=page_size, cursor=c, **filters),
            lambda p: p.trades,
            lambda p: p.cursor,
        )

    async def get_historical_fills(self, **filters: Unpack[AccountWindow]) -> w.GetFillsResponse:
        """Our fills made before ``trades_created_ts`` (newest first)."""
        return await self._get("/historical/fills", w.GetFillsResponse, query=cast(Mapping[str, QueryValue], filters))

    def iter_historical_fills(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Fill]:
        return self._pages(
            lambda c: self.get_historical_fills(limit=page_size, cursor=c, **filters),
            lambda p: p.fills,
            lambda p: p.cursor,
        )

    async def get_historical_orders(self, **filters: Unpack[AccountWindow]) -> w.GetOrdersResponse:
        """Our orders canceled or executed before ``orders_updated_ts`` (newest first)."""
        return await self._get("/historical/orders", w.GetOrdersResponse, query=cast(Mapping[str, QueryValue], filters))

    def iter_historical_orders(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Order]:
        return self._pages(
            lambda c: self.get_historical_orders(limit=page_size, cursor=c, **filters),
            lambda p: p.orders,
            lambda p: p.cursor,
        )

    async def get_historical_positions(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        ticker: str | None = None,
        event_ticker: str | None = None,
        subaccount: int | None = None,
    ) -> w.GetPositionsResponse:
        """Our settled positions whose event was handed off to the historical data set."""
        query: dict[str, QueryValue] = {
            "limit": limit,
            "cursor": cursor,
            "ticker": ticker,
            "event_ticker": event_ticker,
            "subaccount": subaccount,
        }
        return await self._get("/historical/positions", w.GetPositionsResponse, query=query)

    def iter_historical_positions(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.MarketPosition]:
        return self._pages(
            lambda c: self.get_historical_positions(limit=page_size, cursor=c, **filters),
            lambda p: p.market_positions,
            lambda p: p.cursor,
        )

    # -- portfolio reads ------------------------------------------------------------------------

    async def get_balance(self) -> w.GetBalanceResponse:
        return await self._get("/portfolio/balance", w.GetBalanceResponse)

    async def get_positions(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        ticker: str | None = None,
        event_ticker: str | None = None,
        count_filter: Sequence[str] | None = None,
        settlement_status: str | None = None,
    ) -> w.GetPositionsResponse:
        """``settlement_status``: unsettled (the default) | settled | all."""
        query: dict[str, QueryValue] = {
            "limit": limit,
            "cursor": cursor,
            "ticker": ticker,
            "event_ticker": event_ticker,
            "count_filter": count_filter,
            "settlement_status": settlement_status,
        }
        return await self._get("/portfolio/positions", w.GetPositionsResponse, query=query)

    def iter_positions(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.MarketPosition]:
        """Every market position across pages (event positions: ``get_positions``)."""
        return self._pages(
            lambda c: self.get_positions(limit=page_size, cursor=c, **filters),
            lambda p: p.market_positions,
            lambda p: p.cursor,
        )

    async def get_fills(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        ticker: str | Sequence[str] | None = None,
        order_id: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
    ) -> w.GetFillsResponse:
        """``ticker``: one market or up to 100 (sent comma-separated)."""
        query: dict[str, QueryValue] = {
            "limit": limit,
            "cursor": cursor,
            "ticker": ticker,
            "order_id": order_id,
            "min_ts": min_ts,
            "max_ts": max_ts,
        }
        return await self._get("/portfolio/fills", w.GetFillsResponse, query=query)

    def iter_fills(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Fill]:
        return self._pages(
            lambda c: self.get_fills(limit=page_size, cursor=c, **filters), lambda p: p.fills, lambda p: p.cursor
        )

    async def get_settlements(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        ticker: str | None = None,
        event_ticker: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
    ) -> w.GetSettlementsResponse:
        query: dict[str, QueryValue] = {
            "limit": limit,
            "cursor": cursor,
            "ticker": ticker,
            "event_ticker": event_ticker,
            "min_ts": min_ts,
            "max_ts": max_ts,
        }
        return await self._get("/portfolio/settlements", w.GetSettlementsResponse, query=query)

    def iter_settlements(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Settlement]:
        return self._pages(
            lambda c: self.get_settlements(limit=page_size, cursor=c, **filters),
            lambda p: p.settlements,
            lambda p: p.cursor,
        )

    async def get_orders(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
    ) -> w.GetOrdersResponse:
        """Newest first; ``status``: resting | canceled | executed."""
        query: dict[str, QueryValue] = {
            "limit": limit,
            "cursor": cursor,
            "ticker": ticker,
            "event_ticker": event_ticker,
            "status": status,
            "min_ts": min_ts,
            "max_ts": max_ts,
        }
        return await self._get("/portfolio/orders", w.GetOrdersResponse, query=query)

    def iter_orders(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[w.Order]:
        return self._pages(
            lambda c: self.get_orders(limit=page_size, cursor=c, **filters), lambda p: p.orders, lambda p: p.cursor
        )

    async def get_order(self, order_id: str) -> w.Order:
        response = await self._get("/portfolio/orders/{id}", w.GetOrderResponse, path_params={"id": order_id})
        return response.order

    async def find_order(
        self, client_order_id: str, *, ticker: str | None = None, attempts: int = 3, max_pages: int = 5
    ) -> w.Order | None:
        """The order carrying ``client_order_id`` (newest first, up to ``max_pages`` pages of 200),
        looked for ``attempts`` times 0.25 s apart because the read side may lag a fresh order."""
        page_size = 200
        for attempt in range(attempts):
            scanned = 0
            async for candidate in self.iter_orders(page_size=page_size, ticker=ticker):
                if candidate.client_order_id == client_order_id:
                    return candidate
                scanned += 1
                if scanned >= page_size * max_pages:
                    break
            if attempt + 1 < attempts:
                await asyncio.sleep(0.25)
        return None

    async def get_queue_position(self, order_id: str) -> w.GetOrderQueuePositionResponse:
        return await self._get(
            "/portfolio/orders/{id}/queue_position", w.GetOrderQueuePositionResponse, path_params={"id": order_id}
        )

    async def get_queue_positions(
        self, *, market_tickers: Sequence[str] | None = None, event_ticker: str | None = None
    ) -> w.GetOrderQueuePositionsResponse:
        return await self._get(
            "/portfolio/orders/queue_positions",
            w.GetOrderQueuePositionsResponse,
            query={"market_tickers": market_tickers, "event_ticker": event_ticker},
        )

    # -- V2 order entry -------------------------------------------------------------------------

    @staticmethod
    def _with_client_order_id(req: w.CreateOrderV2Request) -> w.CreateOrderV2Request:
        if isinstance(req.client_order_id, str) and req.client_order_id:
            return req
        return msgspec.structs.replace(req, client_order_id=new_client_order_id())

    async def _existing_ack(self, req: w.CreateOrderV2Request, conflict: ConflictError) -> w.CreateOrderV2Response:
        """The ack of the order an earlier (lost) attempt of ``req`` created; else ``conflict``."""
        client_order_id = req.client_order_id if isinstance(req.client_order_id, str) else ""
        found = await self.find_order(client_order_id, ticker=req.ticker)
        if (
            found is None
            or found.ticker != req.ticker
            or found.book_side != req.side
            or parse_price(found.yes_price_dollars) != parse_price(req.price)
        ):
            raise conflict
        log.info("kalshi_create_resolved", order_id=found.order_id, client_order_id=client_order_id)
        return w.CreateOrderV2Response(
            order_id=found.order_id,
            client_order_id=found.client_order_id,
            fill_count=found.fill_count_fp,
            remaining_count=found.remaining_count_fp,
            ts_ms=ts_ms(found.created_time),
        )

    async def create_order(self, req: w.CreateOrderV2Request) -> w.CreateOrderV2Response:
        """Place one order (``convert.create_request`` builds ``req``). Idempotent through its
        ``client_order_id``: a retry after a lost response returns the order already placed.

        After such a resolution the ack reports the order's *current* fill and remaining counts,
        without averages."""
        req = self._with_client_order_id(req)
        try:
            ack, _ = await self._call(
                "POST", CREATE_ORDER_ROUTE, w.CreateOrderV2Response, body=req, mode=_Mode.CREATE, routed=True
            )
        except _Resolve as resolve:
            return await self._existing_ack(req, resolve.conflict)
        if not isinstance(ack.client_order_id, str):
            ack.client_order_id = req.client_order_id
        return ack

    async def batch_create_orders(self, orders: Sequence[w.CreateOrderV2Request]) -> w.BatchCreateOrdersV2Response:
        """Place several orders in one write (10 tokens each; the batch must fit the write bucket).
        Each item gets a ``client_order_id`` if it has none; after a retry, items the lost attempt
        already placed come back as their existing orders (not errors, not duplicates)."""
        if not orders:
            raise ValueError("a batch needs at least one order")
        reqs = [self._with_client_order_id(o) for o in orders]
        try:
            response, ambiguous = await self._call(
                "POST",
                "/portfolio/events/orders/batched",
                w.BatchCreateOrdersV2Response,
                body=w.BatchCreateOrdersV2Request(orders=reqs),
                mode=_Mode.CREATE,
                items=len(reqs),
            )
        except _Resolve as resolve:  # the whole batch conflicted (a server that rejects it at once)
            raise resolve.conflict from None
        if ambiguous:
            for i, (req, item) in enumerate(zip(reqs, response.orders, strict=False)):
                if item.error is not None and (item.error.code or "").lower() == "order_already_exists":
                    conflict = ConflictError("order already exists", status=409, code="order_already_exists")
                    try:
                        ack = await self._existing_ack(req, conflict)
                    except ConflictError:
                        continue
                    response.orders[i] = w.BatchCreateOrdersV2Result(
                        order_id=ack.order_id,
                        client_order_id=ack.client_order_id if isinstance(ack.client_order_id, str) else None,
                        fill_count=ack.fill_count,
                        remaining_count=ack.remaining_count,
                        ts_ms=ack.ts_ms,
                    )
        return response

    async def cancel_order(self, order_id: str, *, market_ticker: str | None = None) -> w.CancelOrderV2Response:
        """Cancel one resting order (2 write tokens); ``reduced_by`` = contracts canceled. Give the
        order's ``market_ticker`` so that Kalshi can route the cancel to the order's shard."""
        response, _ = await self._call(
            "DELETE",
            "/portfolio/events/orders/{id}",
            w.CancelOrderV2Response,
            path_params={"id": order_id},
            query={"market_ticker": market_ticker},
            routed=market_ticker is not None,
        )
        return response

    async def cancel_all(self) -> None:
        """Cancel every resting order of the account on every shard (``DELETE
        /portfolio/events/orders``, 204; costs one cancel). Kalshi may also cancel orders placed in
        the minute after it. Retried like every cancel."""
        await self._call("DELETE", "/portfolio/events/orders", w.EmptyResponse)

    async def batch_cancel_orders(
        self, order_ids: Sequence[str], *, market_tickers: Mapping[str, str] | None = None
    ) -> w.BatchCancelOrdersV2Response:
        """Cancel several orders (2 write tokens each); per-item errors are in the result.
        ``market_tickers`` (order id → its market) lets Kalshi route each item to its shard."""
        if not order_ids:
            raise ValueError("a batch needs at least one order id")
        tickers = market_tickers or {}
        body = w.BatchCancelOrdersV2Request(
            orders=[
                w.BatchCancelOrdersV2RequestOrder(order_id=o, market_ticker=tickers.get(o, w.UNSET)) for o in order_ids
            ]
        )
        response, _ = await self._call(
            "DELETE", "/portfolio/events/orders/batched", w.BatchCancelOrdersV2Response, body=body, items=len(order_ids)
        )
        return response

    async def amend_order(self, order_id: str, req: w.AmendOrderV2Request) -> w.AmendOrderV2Response:
        """Change price and/or total count (``convert.amend_request``). Not retried except after 429."""
        response, _ = await self._call(
            "POST",
            "/portfolio/events/orders/{id}/amend",
            w.AmendOrderV2Response,
            path_params={"id": order_id},
            body=req,
            mode=_Mode.UNSAFE,
            routed=True,
        )
        return response

    async def decrease_order(
        self,
        order_id: str,
        *,
        reduce_by: Qty | None = None,
        reduce_to: Qty | None = None,
        market_ticker: str | None = None,
    ) -> w.DecreaseOrderV2Response:
        """Shrink a resting order keeping its queue priority: exactly one of ``reduce_by`` /
        ``reduce_to``; ``market_ticker`` routes it to the order's shard. Not retried except after 429."""
        if (reduce_by is None) == (reduce_to is None):
            raise ValueError("give exactly one of reduce_by or reduce_to")
        body = w.DecreaseOrderV2Request(
            reduce_by=format_qty(reduce_by) if reduce_by is not None else None,
            reduce_to=format_qty(reduce_to) if reduce_to is not None else None,
            market_ticker=market_ticker if market_ticker is not None else w.UNSET,
        )
        response, _ = await self._call(
            "POST",
            "/portfolio/events/orders/{id}/decrease",
            w.DecreaseOrderV2Response,
            path_params={"id": order_id},
            body=body,
            mode=_Mode.UNSAFE,
            routed=market_ticker is not None,
        )
        return response

    # -- order groups ---------------------------------------------------------------------------

    async def create_order_group(self, contracts_limit: Qty) -> w.CreateOrderGroupResponse:
        """A group whose orders are all canceled once its fills exceed ``contracts_limit`` in a
        rolling 15 s window. Not retried except after 429."""
        body = w.CreateOrderGroupRequest(contracts_limit_fp=format_qty(contracts_limit))
        response, _ = await self._call(
            "POST", "/portfolio/order_groups/create", w.CreateOrderGroupResponse, body=body, mode=_Mode.UNSAFE
        )
        return response

    async def get_order_groups(self) -> w.GetOrderGroupsResponse:
        return await self._get("/portfolio/order_groups", w.GetOrderGroupsResponse)

    async def get_order_group(self, group_id: str) -> w.GetOrderGroupResponse:
        return await self._get("/portfolio/order_groups/{id}", w.GetOrderGroupResponse, path_params={"id": group_id})

    async def _group_write(self, method: str, route: str, group_id: str, body: Any = None) -> None:
        await self._call(method, route, w.EmptyResponse, path_params={"id": group_id}, body=body, mode=_Mode.UNSAFE)

    async def reset_order_group(self, group_id: str) -> None:
        await self._group_write("PUT", "/portfolio/order_groups/{id}/reset", group_id, w.EmptyResponse())

    async def trigger_order_group(self, group_id: str) -> None:
        await self._group_write("PUT", "/portfolio/order_groups/{id}/trigger", group_id, w.EmptyResponse())

    async def set_order_group_limit(self, group_id: str, contracts_limit: Qty) -> None:
        body = w.UpdateOrderGroupLimitRequest(contracts_limit_fp=format_qty(contracts_limit))
        await self._group_write("PUT", "/portfolio/order_groups/{id}/limit", group_id, body)

    async def delete_order_group(self, group_id: str) -> None:
        """Delete a group, canceling its orders."""
        await self._group_write("DELETE", "/portfolio/order_groups/{id}", group_id)


class _Resolve(Exception):
    """Internal: a create got 409 after an ambiguous earlier attempt; resolve by lookup."""

    def __init__(self, conflict: ConflictError) -> None:
        super().__init__(str(conflict))
        self.conflict = conflict
