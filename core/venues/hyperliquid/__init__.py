"""The Hyperliquid perp venue: REST (httpx), WebSocket (websockets), signed actions.

``venue.HyperliquidVenue`` is the ``Venue`` the runner drives.  Inside: ``wire`` (pydantic models
of every request and answer we use), ``signing`` (the official SDK's L1 signing, off the event
loop), ``nonces`` (one strictly increasing source per signer), ``rest`` and ``ws`` (transports),
``mapping`` (wire answers to core events, item by item; every request built),
``errors`` and ``statuses`` (Hyperliquid's words and what they mean), ``budget`` (rate-limit
accounting) and ``keys`` (secret loading, D21).  Nothing outside this package knows
Hyperliquid's wire format; the embedded exchange and the loopback twin borrow its words and
models to speak it.
"""
