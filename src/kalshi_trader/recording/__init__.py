"""Recording the market: every WebSocket frame as received, the REST market metadata and the NWS
responses, in compressed rotating segment files with a manifest, and reading them back in order
with the gaps marked (docs/recording-format.md).

Modules: ``format`` (records and blocks), ``manifest``, ``writer`` (segments, rotation, the writer
thread), ``reader`` (the records back, in order), ``feed`` (the taps on the WebSocket session, the
market source and the NWS client), ``live`` (the ``record`` command's session).
"""
