"""The Kalshi adapter: the only code that knows Kalshi's JSON, auth and endpoints."""
