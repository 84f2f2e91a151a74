"""Kalshi's market history downloaded to Parquet: settled markets, their public trades and their
candlesticks from the live and historical tiers (``download``), in tables a backtest reads
(``tables``)."""
