"""The embedded exchange's living world: scenarios, simulated weather and its NWS-compatible routes,
other markets and background traders, calibrated to Kalshi's published behaviour."""
