"""The embedded Kalshi-compatible exchange (matching engine, REST + WS server, scenarios)."""
