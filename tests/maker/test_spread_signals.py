"""Issue 20 item 2 in the maker: the signals shape the quotes it sends.

A burst of sellers hitting bids after a calm minute puts our bid side in a cascade: its
quotes are cancelled on the very step (D13: cancels never wait), it says why (D27: "cascade:
intensity ...x baseline"), and the asks keep quoting; once the sellers calm down and the hold
has passed, bids come back.  Volatility widens both sides, never across the touch (D23).
"""

from __future__ import annotations

from core.events import BookSnapshot, CancelAck, Side, Trade
from tests.maker_harness import (
    ASK,
    BID,
    cancels,
    make_config,
    make_params,
    places,
    quoting,
)

SIGNALS_ON = {"volatility_multiplier": 0.5, "cascade_enter": 3.0, "cascade_exit": 1.5}


def _quoting(**signals: object):  # type: ignore[no-untyped-def]
    config = make_config(strategy={"levels": 1}, signals={**SIGNALS_ON, **signals})
    return quoting(make_params(config=config))


def _calm_minute(s, start: float) -> float:  # type: ignore[no-untyped-def]
    t = start
    for i in range(60):
        t = start + i
        s.handle(Trade(Side.BID, ASK, 1, t, 10_000 + 2 * i), t)
        s.handle(Trade(Side.ASK, BID, 1, t + 0.5, 10_001 + 2 * i), t + 0.5)
        s.tick(t + 0.5)
    return t + 1.0


def test_a_sellers_cascade_pulls_our_bids_with_a_reason_and_they_return_after_it() -> None:
    s, first = _quoting(cascade_hold_s=2.0)
    (bid,) = places(first, Side.BID)
    t = _calm_minute(s, s.now + 0.1)
    assert s.view().side_reasons[Side.BID] is None
    out = []
    for i in range(40):  # 40 sellers in 0.4 s
        out += s.handle(Trade(Side.ASK, BID, 5, t + i * 0.01, 20_000 + i), t + i * 0.01)
    out += s.tick(t + 0.45)
    view = s.view()
    reason = view.side_reasons[Side.BID]
    assert reason is not None and reason.startswith("cascade: intensity "), reason
    assert view.spreads is not None and view.spreads[Side.BID].pulled
    assert view.side_reasons[Side.ASK] is None  # the side not run over keeps quoting
    assert view.counters.cascades == 1
    assert any(
        e.kind == "strategy" and e.text.startswith("bid side: cascade: intensity") for e in view.log
    )
    live_bids = [
        o for o in s.maker.tracker.by_cloid.values() if o.side is Side.BID and o.state.is_live
    ]
    assert {c.cloid for c in cancels(out)} >= {o.cloid for o in live_bids if o.oid is not None}
    assert all(s.maker.tracker.get(c.cloid).side is Side.BID for c in cancels(out))
    for cancel in cancels(out):  # the venue confirms the cancels
        s.handle(CancelAck(cancel.cloid, cancel.oid), t + 0.46)
    # Calm again: below the exit ratio and past the hold, the bids come back.
    back = []
    for k in range(1, 40):
        at = t + 0.45 + k * 0.5
        back += s.handle(BookSnapshot(((BID, 50),), ((ASK, 50),)), at)  # data stays fresh
        back += s.tick(at + 0.01)
        if s.view().side_reasons[Side.BID] is None:
            break
    assert s.view().side_reasons[Side.BID] is None
    assert places(back, Side.BID)
    assert bid.cloid  # the first ladder had one


def test_volatility_widens_the_spread_and_never_crosses_D23() -> None:
    s, _ = _quoting(volatility_multiplier=3.0, cascade_enter=0)
    t = s.now + 0.1
    mid_bid = BID
    sent = []
    for i in range(120):  # the book jumps 20 ticks every 0.5 s, up and down
        step = 20 if i % 2 else -20
        bid, ask = mid_bid + step, mid_bid + step + 10
        sent += s.handle(BookSnapshot(((bid, 50),), ((ask, 50),)), t + i * 0.5)
        sent += s.tick(t + i * 0.5 + 0.01)
        for cmd in places(sent):
            assert (cmd.side is Side.BID and cmd.price < ask) or (
                cmd.side is Side.ASK and cmd.price > bid
            )
        sent = []
    view = s.view()
    assert view.spreads is not None
    widened = view.spreads[Side.BID]
    assert widened.half_spread > 3 and widened.reason.startswith("volatility: σ1s")
