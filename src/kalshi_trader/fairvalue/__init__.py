"""Fair value: what a Kalshi contract is worth, independent of the market's price.

A model, usable on its own (imports only ``domain`` and ``config``):

- ``weather``     — pure pricing model: the climate-day maximum's predictive distribution
                    (forecast + bias, σ by lead, Student-t tails, observed-max floor, whole °F)
                    → one probability per bracket, summing to 1; fair prices as ``Price``.
- ``nws``         — async NWS (api.weather.gov-compatible) client and parsers: /points (cached),
                    forecasts, raw grid, observations, CLI products; retries, typed errors,
                    staleness; NWS values → the model's plain inputs.
- ``live``        — one event priced from live NWS data (fetch → inputs → probabilities).
- ``stations``    — series → settlement station table; event-ticker dates.
- ``calibration`` — Brier score, log loss, reliability table over settled outcomes.
"""
