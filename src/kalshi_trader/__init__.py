"""kalshi-trader: automated trading on Kalshi with hard risk limits and an embedded exchange."""

__version__ = "0.1.0"
