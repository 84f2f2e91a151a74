"""strategy package: pure decision functions (state in → intents, brackets and decisions out).

``base`` is the contract every strategy follows (inputs, outputs, lifecycle, params from config);
``favorite`` buys high-probability sides with take-profit / emulated stop brackets; ``weather_mm``
makes markets in temperature brackets around the fair-value model. Imports: ``domain`` and
``fairvalue`` (values) only.
"""
