"""Backtests: recorded market data replayed through the trading node's own path.

- ``clock``: ``ReplayClock`` — market time driven by the recorded timestamps (no sleeping).
- ``recorded``: the recording's markets (a ``MarketSource``) and NWS responses (an ``NwsClient``).
- ``replay``: ``MarketReplay`` — recorded records into the same ``WsSession`` and ``Monitor``.
- ``data``: which kind of data a directory holds (a recording or a history download).
- ``history``: a history download turned into the records a replay reads (the trade-based model).
- ``runner``: ``run_backtest`` — the replay, strategies, risk and execution engine with the paper
  venue as the exchange; its result is a ``BacktestResult``.
- ``report``: the console table; ``html``: the self-contained HTML report.
- ``sweep``: a grid of settings run in parallel processes.

Imports: everything a node wires (it is one), never ``sim``, ``web`` or ``cli``.
"""
