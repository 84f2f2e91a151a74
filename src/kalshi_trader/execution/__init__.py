"""Execution: acts on intents, whoever made them — the only way orders reach a venue.

- ``engine``: ``ExecutionEngine`` — gate, risk's check-and-reserve, audit, one ordered queue,
  idempotent creates, amend/decrease/cancel/batches, inputs from the exchange, read models.
- ``queue``: the ordered execution queue (durable point before every create).
- ``brackets`` (pure policy) and ``protection`` (its upkeep in the engine): resting take-profits,
  emulated stop-losses, one-cancels-other, resized on partial fills.
- ``safety``: kill switch, risk's actions (cancel-all, flatten), order groups per strategy.
- ``desk``: the narrow view of the engine ``protection`` and ``safety`` work through (no cycle),
  ``EngineConfig`` and ``Submission``.
- ``feed``: the venue's private events (fills, order reports, settlements, order groups) → the
  engine.
- ``reconcile``: the engine's view made equal to the exchange's at start, on reconnect, periodically.
- ``orders``: the order tracker (lifecycle, fills, positions, P&L); ``views``: read models.
- ``venue``: the venue port — what the engine needs from a venue (Kalshi, or ``paper``), in
  domain values, and the sink of its private events.

Imports (import-linter): the venue port, ``risk``, ``domain``, ``store`` — never the Kalshi
adapter (``kalshi``), strategy, web or sim.
"""
