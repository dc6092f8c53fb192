"""The ladder: depth of market centred on the touch, our orders marked at their prices.

Asks above (best ask nearest the middle), a spread line, bids below.  Our live orders are
merged in at their prices (a level of our own may sit outside the public depth) with a state
tag.  Above everything, each side that is not quoting says why (D27).  Drawn with the line API
(``RowsView``); it only reads the ``ConsoleView`` it is given.
"""

from __future__ import annotations

from typing import ClassVar

from core.events import Side
from core.orders import OrderState
from core.view import ConsoleView, OrderView
from tui import fmt
from tui.lines import Row, RowsView

# The live states' short names, here and in a narrow order pane.
SHORT_STATE = {
    OrderState.PENDING_NEW: "new",
    OrderState.RESTING: "rest",
    OrderState.PARTIAL_FILLED: "part",
    OrderState.CANCEL_PENDING: "cxl",
}
UNKNOWN_TAG = "unk?"  # the placement's outcome is unknown (D8)
_OWN_W = 6
_SIZE_W = 7
_PRICE_W = 9


def own_tag(orders: list[OrderView]) -> str:
    if not orders:
        return ""
    first = orders[0]
    if first.unknown_for is not None:
        tag = UNKNOWN_TAG
    else:
        tag = SHORT_STATE.get(first.state, first.state.value[:4])
    return ("◆" if len(orders) == 1 else str(min(len(orders), 9))) + tag


# Levels waiting on the venue, shown above the ladder (the rest are in the order pane).
_STALLS_SHOWN = 3


class Ladder(RowsView):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ladder--bid",
        "ladder--ask",
        "ladder--bid-depth",
        "ladder--ask-depth",
        "ladder--own",
        "ladder--own-unknown",
        "ladder--price",
        "ladder--touch",
        "ladder--spread",
        "ladder--reason",
        "ladder--head",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view: ConsoleView | None = None

    def show(self, view: ConsoleView) -> None:
        self._view = view
        self.set_rows(self.build_rows(view, self.size.height))

    def on_resize(self) -> None:
        if self._view is not None:
            self.set_rows(self.build_rows(self._view, self.size.height))

    def build_rows(self, view: ConsoleView, height: int) -> list[Row]:
        inst = view.instrument
        rows: list[Row] = []
        for side in (Side.BID, Side.ASK):
            reason = view.side_reasons.get(side)
            if reason:
                rows.append(((f"{side.value.upper()}: {reason}", "ladder--reason"),))
        for level, why in list(view.stalls.items())[:_STALLS_SHOWN]:
            rows.append(((f"{level.upper()}: {why}", "ladder--reason"),))  # D27, D31
        rows.append(
            (
                (f"{'ours':>{_OWN_W}}{'bid':>{_SIZE_W}} ", "ladder--head"),
                (f"{'price':^{_PRICE_W}}", "ladder--head"),
                (f" {'ask':<{_SIZE_W}}{'ours':<{_OWN_W}}", "ladder--head"),
            )
        )
        levels = max(1, (height - len(rows) - 1) // 2)
        own: dict[tuple[Side, int], list[OrderView]] = {}
        for o in view.orders:
            if o.shown_live:
                own.setdefault((o.side, o.price), []).append(o)
        asks = dict(view.asks)
        bids = dict(view.bids)
        for (side, px), _ in own.items():
            (bids if side is Side.BID else asks).setdefault(px, 0)
        ask_prices = sorted(asks)[:levels]
        bid_prices = sorted(bids, reverse=True)[:levels]
        # Depth bars are scaled to the deepest level on screen (issue 16).
        deepest = max([asks[p] for p in ask_prices] + [bids[p] for p in bid_prices] + [1])
        for px in reversed(ask_prices):
            rows.append(
                self._level(view, Side.ASK, px, asks[px], own.get((Side.ASK, px), []), deepest)
            )
        spread = (
            fmt.price(inst, view.best_ask - view.best_bid)
            if view.best_bid is not None and view.best_ask is not None
            else "-"
        )
        width = _OWN_W + _SIZE_W * 2 + _PRICE_W + 2
        rows.append(((f"spread {spread}".center(width, "─"), "ladder--spread"),))
        for px in bid_prices:
            rows.append(
                self._level(view, Side.BID, px, bids[px], own.get((Side.BID, px), []), deepest)
            )
        return rows

    def _level(
        self,
        view: ConsoleView,
        side: Side,
        px: int,
        lots: int,
        mine: list[OrderView],
        deepest: int,
    ) -> Row:
        inst = view.instrument
        touch = px == (view.best_bid if side is Side.BID else view.best_ask)
        # One column is always left between the size and our order's tag (a size of 10 or
        # more used to run into it): decimals are dropped to fit.
        size_text = fmt.fit(fmt.size(inst, lots), _SIZE_W - 1) if lots else ""
        tag = own_tag(mine)
        own_cls = (
            "ladder--own-unknown" if any(o.unknown_for is not None for o in mine) else "ladder--own"
        )
        side_cls = "ladder--bid" if side is Side.BID else "ladder--ask"
        price_cls = "ladder--touch" if touch else "ladder--price"
        price_cell = (f"{fmt.price(inst, px):^{_PRICE_W}}", price_cls)
        # The size cell doubles as a depth bar: shaded from the price outwards.
        bar = round(_SIZE_W * lots / deepest) if lots else 0
        depth_cls = f"{side_cls}-depth"
        if side is Side.BID:
            cell = f"{size_text:>{_SIZE_W}} "
            cut = len(cell) - bar
            return (
                (f"{tag:>{_OWN_W}}", own_cls),
                (cell[:cut], side_cls),
                (cell[cut:], depth_cls),
                price_cell,
                (f" {'':<{_SIZE_W}}{'':<{_OWN_W}}", ""),
            )
        cell = f" {size_text:<{_SIZE_W}}"
        return (
            (f"{'':>{_OWN_W}}{'':>{_SIZE_W}} ", ""),
            price_cell,
            (cell[:bar], depth_cls),
            (cell[bar:], side_cls),
            (f"{tag:<{_OWN_W}}", own_cls),
        )
