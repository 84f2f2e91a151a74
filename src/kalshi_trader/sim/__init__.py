"""The embedded Kalshi-compatible exchange, in three layers: ``core`` (the matching core: markets,
orders, books, fees, accounts; no I/O), ``api`` (the REST + WebSocket server speaking Kalshi's API
over it) and ``world`` (scenarios, simulated weather, NWS routes, other markets, traders), each
importing only the layers below it; ``standalone`` assembles them."""
