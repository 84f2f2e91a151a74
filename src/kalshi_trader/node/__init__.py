"""The trading node: wires the exchange client, market data, strategies, risk, execution, the
record and fair values together for one mode, and offers read models and commands to the web.

Modules: ``options`` (mode, options, errors, shutdown report), ``state`` (the parts and in-memory
read state), ``wiring`` (per mode: exchange, signer, venue, record, markets followed), ``paper``
(the live market data into the paper venue), ``views`` (read models), ``commands``, ``core``
(``TradingNode``: start, routing, loops, stop).

Contract:
- ``TradingNode(settings, NodeOptions(mode=...))``; ``await start()`` builds and starts every part
  in order, ``await stop()`` takes them down in reverse. Modes (docs/architecture.md):
  ``sim`` — the embedded exchange (``sim.standalone.build_exchange``: the weather world on a
  simulated clock running ``speed`` times real time) started in this process on
  ``exchange.host:exchange.port`` (or, with ``embedded=False``, an exchange already running at
  ``settings.rest_url()`` with the data dir's key); ``demo`` / ``prod`` — Kalshi's servers with the
  configured API key (``prod`` refuses to start unless ``confirm_prod``); ``paper`` — Kalshi's
  market data (``data_env`` demo or prod, or the exchange at ``api.url``: how it is tested) with
  every order sent to the paper venue (``paper.PaperVenue``, fed by ``node.paper.PaperFeed``;
  its own record ``DATA_DIR/paper-venue.db``, starting cash ``paper.starting_balance_dollars``).
  A paper node holds only a ``kalshi.readonly.ReadOnlyRest`` (no order-entry method) and no
  Kalshi venue: no write request can reach Kalshi. It needs an API key for the WebSocket (a
  read-only one is enough): without one it raises ``KeyFileError`` saying so.
- Start order: exchange (sim) → REST client → store + recorder → risk → one WebSocket session →
  the venue (``kalshi.venue.KalshiVenue``: the REST client and the session's private channels) →
  execution engine → the monitor's books on the same session, then the venue's private events into
  the engine (``execution.feed.EngineEvents``; a gap requests a reconciliation) → markets
  registered with the engine → reconciliation (the record replayed, the exchange's orders, fills,
  settlements and positions compared) → fair values (NWS) → strategies (started when ``autostart``
  and enabled in config) → balance and sampling loops. A failure at any step closes what was
  started and raises ``NodeError`` (one line, no secrets) — or, for an unusable API key file
  (demo/prod), ``kalshi.auth.KeyFileError`` (a user mistake).
- The record: in embedded ``sim`` the exchange starts fresh every time, so its record does too —
  ``DATA_DIR/sim.db`` is replaced at each start unless ``store.url`` is set; ``paper`` keeps its
  own, ``DATA_DIR/paper.db`` (never the live record); otherwise the store is ``store.url`` or
  ``DATA_DIR/kalshi-trader.db``.
- **Stop** (``stop(reason)``, also what SIGINT/SIGTERM lead to in ``cli run``): the strategies
  stop, the kill switch is engaged (nothing may rest any more; queued places are dropped) and every
  resting order at the exchange is canceled, round after round; with ``flatten_on_exit`` open
  positions are closed with reduce-only IOC orders (up to ``shutdown_timeout_s``). Then the parts
  close. The result (``ShutdownReport``) says how many orders were still resting.
- Time: *market time* (``market_ms()``) is the exchange's clock — the simulated clock of the
  embedded exchange, the wall clock otherwise (with ``embedded=False`` against a sped-up exchange
  strategies see wall time: use the embedded exchange for fast runs). Strategies, fair values and
  market schedules use it, and so do risk's loss velocity and trading-day roll; the rest of risk
  and the engine use a monotonic clock.
- Garbage collection: once started, the node moves every object alive then (modules, settings,
  markets, connections, the embedded exchange) into the collector's permanent generation
  (``gc.freeze``), so the full collections CPython runs by itself as the heap grows scan only what
  was made since — not a pause of tens of milliseconds on a tick that meets one (bench/RESULTS.md).
  ``stop`` unfreezes them.
- Reads (``NodeApi`` of ``readmodels``) are synchronous and cheap; ``changes`` publishes a topic
  whenever what a read shows changed (book deltas, fills, orders, strategy and risk state,
  connection, samples every ``sample_interval_s``).
"""

from kalshi_trader.node.core import TradingNode
from kalshi_trader.node.options import DEFAULT_SPEED, Mode, NodeError, NodeOptions, ShutdownReport

__all__ = ["DEFAULT_SPEED", "Mode", "NodeError", "NodeOptions", "ShutdownReport", "TradingNode"]
