"""D41: our own liquidation is an emergency (issue 19 item 5).

A fill the venue marks as the liquidation of our account, an account event naming us, or an
auto-deleveraging of our position kills at once (the fill itself is counted like any other:
the position moved), stays on screen until the operator acknowledges it (the re-arm does, and
says so), and the run ends with exit 3 -- even after a re-arm.  Our side of someone else's
liquidation is just a fill.  The connector's half (what marks a fill so) is tested on the
venue's own shapes.
"""

from __future__ import annotations

from core.actions import Rearm
from core.events import Fill, Liquidated, Liquidity, Side
from core.exitcodes import EXIT_HALTED
from core.runner import RunResult
from core.venues.hyperliquid.mapping import Translator
from core.view import Mode
from tests.maker_harness import (
    INSTRUMENT,
    cancel_alls,
    make_config,
    make_params,
    places,
    quoting,
)
from tui.panes import HeaderPane

US = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20


def _quoting():  # type: ignore[no-untyped-def]
    return quoting(make_params(config=make_config(strategy={"levels": 1})))


def test_D41_a_liquidation_fill_kills_at_once_and_is_still_counted() -> None:
    s, first = _quoting()
    (bid,) = places(first, Side.BID)
    before = s.maker.position.lots
    fill = Fill(
        77,
        100,
        bid.cloid,
        Side.BID,
        bid.price,
        3,
        Liquidity.TAKER,
        liquidation="Liquidated Cross Long 0.0003 ETH at 2990.0 (mark 2989.5, market)",
    )
    sent = s.handle(fill, s.now + 0.01)
    assert cancel_alls(sent), "the kill's cancel-all goes out from the same step"
    assert s.maker.mode is Mode.KILLED
    assert s.maker.position.lots == before + 3  # it moved the position: counted like a fill
    view = s.view()
    assert view.liquidation.startswith("Liquidated Cross Long")
    assert view.counters.liquidations == 1
    assert view.kill_triggers[-1].reason.startswith("our account was liquidated")
    header = HeaderPane().build(view).plain
    assert "liquidated" in header.lower()
    # A replay of the same fill (a reconnect) is neither counted nor a second liquidation.
    s.handle(fill, s.now + 0.02)
    assert s.view().counters.liquidations == 1


def test_D41_it_stays_until_the_rearm_acknowledges_it_and_the_run_exits_3() -> None:
    s, _ = _quoting()
    s.handle(Liquidated("the venue liquidated this account"), s.now + 0.01)
    assert s.maker.mode is Mode.KILLED
    s.tick(s.now + 5.0)  # the sweep is verified meanwhile; the notice stays
    assert s.view().liquidation == "the venue liquidated this account"
    s.operate(Rearm(), s.now + 0.01)
    assert s.view().liquidation == ""
    assert any("liquidation acknowledged" in e.text for e in s.view().log)
    result = RunResult("stop", Mode.RUNNING, 0, 0, liquidations=1)
    assert result.stopped_by_safety and result.exit_code == EXIT_HALTED


def _row(**over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "coin": INSTRUMENT.symbol,
        "px": "2990.0",
        "sz": "0.5",
        "side": "A",
        "time": 1_700_000_000_000,
        "startPosition": "0.5",
        "dir": "Close Long",
        "closedPnl": "-12.5",
        "hash": "0x" + "0" * 64,
        "oid": 1,
        "crossed": True,
        "fee": "0.67275",
        "tid": 9,
        "feeToken": "USDC",
    }
    row.update(over)
    return row


def _liquidation_of(row: dict[str, object]) -> str | None:
    rows = Translator(INSTRUMENT).fills([row], snapshot=False, what="userFills", account=US)
    ((_, fill),) = rows.items
    assert fill is not None
    return fill.liquidation


def test_D41_the_connector_marks_our_liquidation_and_not_our_side_of_anothers() -> None:
    mark = {"markPx": "2989.5", "method": "market"}
    assert _liquidation_of(_row()) is None
    ours = _liquidation_of(_row(dir="Liquidated Cross Long", liquidation=mark))
    assert ours is not None and "mark 2989.5" in ours
    named = _liquidation_of(_row(liquidation={**mark, "liquidatedUser": US.upper()}))
    assert named is not None
    theirs = _liquidation_of(_row(dir="Open Short", liquidation={**mark, "liquidatedUser": OTHER}))
    assert theirs is None  # we took the other side of someone else's liquidation
    assert _liquidation_of(_row(dir="Auto-Deleveraging")) is not None
    assert _liquidation_of(_row(builderFee="0.01", twapId=None)) is None  # parsed, kept
