"""The embedded exchange's matching core: markets, orders, books, fees, accounts and the matching
engine, with no I/O and no wire format."""
