"""The embedded simulated exchange: a seeded, fault-injecting venue for one market -- a
Hyperliquid-style perp, or a Polymarket-style binary outcome token (``SimConfig.market``).

``exchange.SimExchange`` is the sans-I/O exchange (time passed in); ``venue.SimVenue`` drives it
on the wall clock behind the async ``Venue`` protocol, and ``core.harness.loop.SimLoop`` drives it
in virtual time.  Inside: ``book`` (price-time priority), ``engine`` (rules, matching,
settlement), ``accounts``, ``flow`` (synthetic market), ``faults`` (the fault plan),
``settlement`` (when a binary market's trades settle, D38), ``delivery`` (latency and
ordering).  Its settings, the ``[sim]`` table, are ``core.simconfig``.  It speaks the words of
the venue its market models, and reads them back as that venue's connector does, through
``dialect`` (the one module here that imports a venue package): Hyperliquid's on a perp,
Polymarket's on a binary market.
"""
