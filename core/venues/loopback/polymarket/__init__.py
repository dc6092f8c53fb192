"""The loopback twin of Polymarket: the embedded exchange served over the CLOB V2 protocol.

``PmTwin`` answers the REST endpoints the official ``py_clob_client_v2.ClobClient`` calls (and
the market data a market maker reads) and serves ``/ws/market`` and ``/ws/user``, with the
venue's auth (L1 EIP-712, L2 HMAC, EIP-712 order signatures), shapes and verbatim texts, on top
of ``core.venues.sim`` -- one binary market, the NO token mirrored from the YES book.  Its rooms,
each a class building on the one before, one job per module:

    auth       L1/L2 credentials and order signatures (eth_account; the official addresses)
    transport  PmServer: the loopback server with headers both ways and two socket paths
    market     tokens (YES / mirrored NO), our orders and trades
    settings   what the twin serves beside SimConfig (chain, lifecycle pace, limits)
    base       PmTwinBase: state, the clock's turn, the exchange's events as records and pushes
    guards     operating modes, per-signer rate limits, the dead-man switch
    orders     POST /order(s) and the cancels
    sockets    /ws/market and /ws/user
    control    scripting: methods and /_twin/... (its docstring is the control API)
    api        PmTwin: start/close, routing, auth, queries
"""

from core.venues.loopback.polymarket.api import PmTwin
from core.venues.loopback.polymarket.settings import PmTwinSettings

__all__ = ["PmTwin", "PmTwinSettings"]
