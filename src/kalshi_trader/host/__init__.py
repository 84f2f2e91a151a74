"""The trading node's moving parts that are neither domain services nor the node itself.

``strategies`` hosts the pure strategies (builds their inputs from the node's books, orders,
positions and fair values; hands their actions to the execution engine); ``fair`` keeps weather
fair values fresh from the NWS API. Only ``node`` wires them in (import-linter keeps everything
else, the web in particular, from importing them).
"""
