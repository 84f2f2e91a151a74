"""Fair value: what a Kalshi contract is worth, independent of the market's price.

A model, usable on its own (imports only ``domain`` and ``config``):

- ``weather``        — pure pricing model: the climate-day maximum's or minimum's predictive
                       distribution (forecast + bias, σ by lead, Student-t tails, observed extreme
                       as a floor/ceiling, whole °F) → one probability per bracket, summing to 1.
- ``nws``            — async NWS (api.weather.gov-compatible) client and parsers: /points (cached),
                       forecasts, raw grid, observations, CLI products; retries, typed errors,
                       staleness; NWS values → the model's plain inputs, for highs and lows.
- ``climate_report`` — the Daily Climate Report (CLI) text: MAXIMUM and MINIMUM in every layout
                       NWS offices publish.
- ``partition``      — a partition's bracket probabilities with one CDF evaluation per edge.
- ``live``           — one event priced from live NWS data (fetch → inputs → probabilities).
- ``blend``          — the model's probabilities pooled with the market mid on log-odds, the
                       model's weight by hours to the close.
- ``stations``       — series → settlement station (from the market's rules and the series'
                       settlement sources; a table for what the API does not say); event dates.
- ``calibration``    — Brier score, log loss, reliability table over settled outcomes.
"""
