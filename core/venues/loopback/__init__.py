"""The loopback twin: the embedded exchange served over Hyperliquid's wire protocol.

``server`` is the transport (HTTP with h11 and WebSocket with websockets' sans-I/O protocol, on
one 127.0.0.1 port), ``twin`` the exchange semantics (signatures, nonces, info, actions,
subscriptions) on top of ``core.venues.sim``, ``faults`` its wire-level fault plan, and ``serve``
starts the two together (``mm-console sim-server``, and the end-to-end tests).
"""
