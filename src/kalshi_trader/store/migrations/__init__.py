"""Alembic migrations for the store (run through :mod:`kalshi_trader.store.migrate`)."""
