"""What the maker rule tests share: venue texts and small steps of a running maker."""

from __future__ import annotations

from core.commands import Command, Place
from core.events import Fill, Liquidity, PlaceRejected, RejectionClass, Side
from core.recovery import RecoveryState
from tests.maker_harness import (
    ASK,
    BID,
    Rig,
    make_config,
    make_params,
    places,
    running_maker,
)

MARGIN = "Insufficient margin to place order. asset=0"
POST_ONLY = "Post only order would have immediately matched, bbo was 99@100. asset=0"
RATE_LIMITED = "Too many cumulative requests sent (1201 > 1200) for cumulative volume traded"
OI_CAP = "Order would increase open interest while open interest is capped. asset=0"
STRANGE = "Something the classifier has never seen"


def batch_of(s: Rig, cmd: Command) -> int:
    return next(b.batch_id for b in s.batches if cmd in b.commands)


def three_levels(**sections: dict) -> Rig:
    s, first = running_maker(make_params(config=make_config(strategy={"levels": 3}, **sections)))
    s.ack_all(first, 100)
    return s


def first_place(s: Rig, side: Side, until: float) -> Place | None:
    """Tick (data fresh) until the maker places on ``side``; that placement, or None."""
    while s.now < until - 1e-9:
        got = places(s.run(s.now + 0.1), side)
        if got:
            return got[0]
    return None


def unmatched_fill(tid: int, side: Side, size: int, price: int = BID) -> Fill:
    return Fill(tid, None, None, side, price, size, Liquidity.TAKER)


def armed_recovery(**recovery: object) -> Rig:
    """A running maker 20 lots long against a 1-lot limit whose reduce-only asks keep
    being refused as post-only: recovery armed (D15)."""
    config = make_config(risk={"max_position": "1.0"}, recovery=recovery)
    s, first = running_maker(
        make_params(config=config), position=20, entry_value=20 * (BID + ASK) // 2
    )
    s.tick(s.now + 0.1)
    pending = [p for p in places(first, Side.ASK) if p.reduce_only]
    for _ in range(3):
        assert pending
        for p in pending:
            s.handle(PlaceRejected(p.cloid, POST_ONLY, RejectionClass.PRICE_ERROR, batch_of(s, p)))
        if s.maker.recovery.state is RecoveryState.ARMED:
            break
        nxt = first_place(s, Side.ASK, s.now + 5)
        pending = [nxt] if nxt is not None and nxt.reduce_only else []
    assert s.maker.recovery.state is RecoveryState.ARMED
    return s
