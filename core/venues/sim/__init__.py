"""The embedded simulated exchange: a seeded, fault-injecting venue for one market -- a
Hyperliquid-style perp, or a Polymarket-style binary outcome token (``SimConfig.market``).

``exchange.SimExchange`` is the sans-I/O exchange (time passed in); ``venue.SimVenue`` drives it
on the wall clock behind the async ``Venue`` protocol, and ``core.harness.loop.SimLoop`` drives it
in virtual time.  Inside: ``book`` (price-time priority), ``engine`` (rules, matching,
settlement), ``accounts``, ``flow`` (synthetic market), ``faults`` (the fault plan),
``settlement`` (when a binary market's trades settle, D38), ``delivery`` (latency and
ordering).  Its settings, the ``[sim]`` table, are
``core.simconfig``.  It speaks Hyperliquid's words (``core.venues.hyperliquid.errors`` and
``statuses``) and classifies its rejections with them, on a binary market too (the Polymarket
twin translates; only post-only mode's refusal is Polymarket's own text).
"""
