"""Resting orders: one line per live order, a cursor to pick one for ``x`` (cancel it).

Columns: cloid (its tail), oid, side, price, size, filled, state, age.  An order whose
placement outcome is unknown (D8) says so with how long it has been unknown.  The last line
counts orders kept only to catch late fills and venue orders we do not track (D25).  Narrow
panes drop the oid and filled columns.  Drawn with the line API (``RowsView``); the selection
follows the order, not the line, so it stays on its order while the list moves (issue 16): a
re-price replaces an order by a new one on the same ladder level, and the selection moves to
it; an order that is gone with no replacement leaves nothing selected -- never whatever order
happens to be first, which ``x`` would then cancel.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from core.events import Side
from core.orders import OrderState
from core.view import ConsoleView, OrderView
from tui import fmt
from tui.ladder import SHORT_STATE, UNKNOWN_TAG
from tui.lines import Row, RowsView

_WIDE = 62


def shown_orders(view: ConsoleView) -> list[OrderView]:
    """Live orders, asks from the highest price down, then bids from the highest down."""
    live = [o for o in view.orders if o.shown_live]
    return sorted(live, key=lambda o: (o.side is Side.BID, -o.price, o.cloid))


class OrdersView(RowsView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("home", "move(-100000)", show=False),
        Binding("end", "move(100000)", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "orders--head",
        "orders--bid",
        "orders--ask",
        "orders--unknown",
        "orders--cancel",
        "orders--cursor",
        "orders--note",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view: ConsoleView | None = None
        self._orders: list[OrderView] = []
        self.selected: str | None = None
        self._chosen = False  # the operator has moved the selection (else: the first row)
        self._level: tuple[Side, int] | None = None  # the ladder level of the selected order

    @property
    def selected_order(self) -> OrderView | None:
        return next((o for o in self._orders if o.cloid == self.selected), None)

    def show(self, view: ConsoleView) -> None:
        self._view = view
        self._orders = shown_orders(view)
        if self.selected not in {o.cloid for o in self._orders}:
            if self._chosen:
                # Its replacement (a re-price keeps the level), or nothing until one comes.
                level = self._level
                found = next((o for o in self._orders if (o.side, o.level) == level), None)
                self._select(found if level is not None else None, chosen=True)
            else:
                self._select(self._orders[0] if self._orders else None, chosen=False)
        self._redraw()

    def _select(self, order: OrderView | None, *, chosen: bool) -> None:
        self.selected = None if order is None else order.cloid
        if order is not None:
            self._level = None if order.level is None else (order.side, order.level)
        self._chosen = chosen

    def on_resize(self) -> None:
        self._redraw()

    def action_move(self, delta: int) -> None:
        if not self._orders:
            return
        cloids = [o.cloid for o in self._orders]
        index = cloids.index(self.selected) if self.selected in cloids else 0
        index = max(0, min(len(cloids) - 1, index + delta))
        self._select(self._orders[index], chosen=True)
        self._redraw()
        self.scroll_to_region_for(index + 1)

    def scroll_to_region_for(self, line: int) -> None:
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if line < top + 1:
            self.scroll_to(y=max(0, line - 1), animate=False)
        elif line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False)

    def _redraw(self) -> None:
        if self._view is None:
            return
        self.set_rows(self.build_rows(self._view, self.scrollable_content_region.width))

    def build_rows(self, view: ConsoleView, width: int) -> list[Row]:
        wide = width >= _WIDE
        head = self._line(wide, "cloid", "oid", "s", "price", "size", "filled", "state", "age")
        rows: list[Row] = [((" " + head, "orders--head"),)]
        inst = view.instrument
        focused = self.has_focus
        for o in self._orders:
            if o.unknown_for is not None:
                state, age, cls = "unknown", fmt.age(o.unknown_for), "orders--unknown"
                short = UNKNOWN_TAG
            else:
                state, age = o.state.value, fmt.age(o.age)
                short = SHORT_STATE.get(o.state, state[:5])
                if o.state is OrderState.CANCEL_PENDING:
                    cls = "orders--cancel"
                else:
                    cls = "orders--bid" if o.side is Side.BID else "orders--ask"
            if not wide:
                state = short
            text = self._line(
                wide,
                fmt.short_cloid(o.cloid),
                "-" if o.oid is None else str(o.oid),
                "B" if o.side is Side.BID else "S",
                fmt.price(inst, o.price),
                fmt.size(inst, o.size),
                fmt.size(inst, o.filled),
                state + ("·ro" if o.reduce_only and wide else ""),
                age,
            )
            if o.cloid == self.selected and focused:
                cls = "orders--cursor"
            marker = "▶" if o.cloid == self.selected else " "
            rows.append(((marker, "orders--cursor" if focused else ""), (text, cls)))
        hidden = sum(1 for o in view.orders if not o.shown_live)
        note = f"untracked venue orders: {view.untracked_venue_orders}"
        if hidden:
            note += f" · {hidden} awaiting late fills"
        rows.append(((note, "orders--note"),))
        return rows

    @staticmethod
    def _line(
        wide: bool,
        cloid: str,
        oid: str,
        side: str,
        price: str,
        size: str,
        filled: str,
        state: str,
        age: str,
    ) -> str:
        if wide:
            return (
                f" {cloid:<7} {oid:>7} {side:1} {price:>9} {size:>7} {filled:>7} "
                f"{state:<15} {age:>6}"
            )
        return f" {cloid:<7} {side:1} {price:>9} {size:>7} {state:<5} {age:>5}"
