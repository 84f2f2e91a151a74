"""marketdata package."""
