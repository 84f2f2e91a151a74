"""The embedded exchange's Kalshi API: the REST and WebSocket server over the matching core, with
its rate limits, faults, operator API, credentials and historical tier."""
