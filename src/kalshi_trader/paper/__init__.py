"""Paper trading: a venue that matches the account's orders against the live public book locally.

- ``venue``: ``PaperVenue`` — the ``execution.venue.Venue`` port, fed by the market data, durable.
- ``exchange``: ``PaperExchange`` — order entry, matching, self-trade prevention, order groups,
  lifecycle and settlement as on Kalshi (pure, synchronous).
- ``queue``: the queue model — where resting orders stand and when the real market fills them.
- ``book``: the public book per level with the bookkeeping the queue model needs.
- ``ledger``: cash, collateral, fees, netted positions, settlement.
- ``record``: the SQLite record the venue resumes from; ``model``: its rows and changes.

Imports (import-linter): ``domain``, ``execution.venue`` and ``store``'s SQLite conventions —
never the Kalshi adapter, the embedded exchange or the bot.
"""
