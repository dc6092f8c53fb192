"""The exposure pane: position, pending and worst-case exposure against the limit (D17), with
the session's position and net PnL trends as Textual sparklines beside the numbers.

Worst-case bars warn and never block orders: the maker's risk rules decide that; this pane
shows how close the book of resting orders could take the position to its limit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

from core.events import Side
from core.view import ConsoleView
from tui import fmt
from tui.panes import TextPane


class ExposurePane(TextPane):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "exposure--label",
        "exposure--bid",
        "exposure--ask",
        "exposure--fill",
        "exposure--empty",
        "exposure--breach",
    }

    def build(self, view: ConsoleView) -> Text:
        inst = view.instrument
        ex = view.exposure
        tier = view.limits.tier_limit
        by_tier = tier is not None and tier < view.limits.max_position
        limit = max(1, tier if by_tier and tier is not None else view.limits.max_position)
        width = max(4, self.content_region.width - 27)
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("position  ", self.style_of("exposure--label"))
        t.append(f"{fmt.signed_size(inst, ex.position):>10}")
        # Issue 19: the venue's margin tier, when it is the tighter limit, says so.
        where = f" (margin tier at {view.leverage}x)" if by_tier else ""
        t.append(f"   limit ±{fmt.size(inst, limit)}{where}\n", self.style_of("exposure--label"))
        t.append("pending   ", self.style_of("exposure--label"))
        t.append(f"bid {fmt.size(inst, ex.pending_bid)}", self.style_of("exposure--bid"))
        t.append("  ")
        pending = f"ask {fmt.size(inst, ex.pending_ask)}"
        t.append(pending, self.style_of("exposure--ask"))
        # Issue 19: the margin the position uses at our leverage, as the venue counts it for a
        # cross position (its value at the mid over the leverage) -- where the line has room.
        if view.best_bid is not None and view.best_ask is not None and inst.max_leverage > 1:
            value = abs(ex.position) * ((view.best_bid + view.best_ask) // 2)
            margin = f"  margin ${inst.value_to_decimal(value) / view.leverage:,.2f}"
            line = len(t.plain) - t.plain.rfind("\n") - 1
            room = self.content_region.width
            if not room or line + len(margin) <= room:
                t.append(margin, self.style_of("exposure--label"))
        t.append("\n")
        if ex.unsettled_bought or ex.unsettled_sold or view.counters.provisional_fills:
            # D38: fills the venue may still undo; the worst case below counts them both ways.
            t.append("settling  ", self.style_of("exposure--label"))
            t.append(f"final {fmt.signed_size(inst, ex.confirmed_position)}")
            waiting = ex.unsettled_bought - ex.unsettled_sold
            t.append(f"  pending {fmt.signed_size(inst, waiting)}", self.style_of("exposure--bid"))
            failed = view.counters.failed_fills
            if failed:
                t.append(f"  FAILED {failed}", self.style_of("exposure--breach"))
            t.append("\n")
        for label, lots, breached in (
            ("worst max ", ex.worst_case_max_position, ex.breaches_long),
            ("worst min ", ex.worst_case_min_position, ex.breaches_short),
        ):
            t.append(label, self.style_of("exposure--label"))
            t.append(f"{fmt.signed_size(inst, lots):>10} ")
            full, empty = fmt.bar(abs(lots) / limit, width)
            t.append(full, self.style_of("exposure--breach" if breached else "exposure--fill"))
            t.append(empty, self.style_of("exposure--empty"))
            t.append(f"{abs(lots) * 100 // limit:>4}%\n")
        costs = view.costs
        if costs is not None:
            # D36: net PnL and its parts; fees in another token beside it, never added in;
            # a closedPnl the venue wrote that our books do not match is an alarm.
            t.append("PnL net   ", self.style_of("exposure--label"))
            t.append(f"{view.pnl():>+10,.2f}")
            t.append(f"  real {view.realized_pnl:+,.2f} unreal {view.unrealized_pnl:+,.2f}\n")
            t.append("  costs   ", self.style_of("exposure--label"))
            t.append(f"fees {-costs.fees:+,.2f}  funding {costs.funding:+,.2f}")
            for token, fee in costs.other_fees:
                t.append(f"  {token} fees {-fee:+,.4f}", self.style_of("exposure--label"))
            if costs.closed_mismatches:
                t.append(
                    f"  closedPnl ≠ venue x{costs.closed_mismatches}",
                    self.style_of("exposure--breach"),
                )
            t.append("\n")
        signals = view.signals
        if signals is not None:
            # Issue 20: how fast the mid moves (one sigma over a second, in ticks) and how hard
            # each side's aggressive flow runs against its slow baseline (a cascade reads >> 1).
            t.append("signals   ", self.style_of("exposure--label"))
            ready = signals.volatility_ready
            t.append(f"σ1s {signals.volatility_ticks:.0f}t" if ready else "σ warming")
            for side, label in ((Side.BID, "buy"), (Side.ASK, "sell")):
                ratio = signals.cascade.get(side, 1.0)
                hot = ratio >= CASCADE_SHOWN
                t.append(
                    f" {label} {ratio:.1f}x",
                    self.style_of("exposure--breach" if hot else "exposure--label"),
                )
            t.append("\n")
        spreads = view.spreads
        if spreads is not None:
            # Issue 20: each side's half-spread and why it is not the configured one; a side
            # pulled in a cascade says so in the alarm's colour.
            t.append("spread    ", self.style_of("exposure--label"))
            for side in (Side.BID, Side.ASK):
                row = spreads[side]
                t.append(f"{side.value} ")
                if row.pulled:
                    t.append("PULLED", self.style_of("exposure--breach"))
                else:
                    t.append(f"{row.half_spread}t")
                if row.reason:  # the pane's short form; the status line and log say it all
                    hot = row.reason.startswith("cascade")
                    style = "exposure--breach" if hot else "exposure--label"
                    t.append(f" {_short(row.reason)}", self.style_of(style))
                t.append("  ")
            t.append("\n")
        if ex.breached:
            t.append(
                " ⚠ worst case beyond the position limit (warning, orders not blocked) ",
                self.style_of("exposure--breach"),
            )
        t.rstrip()
        return t


def _short(reason: str) -> str:
    """ "cascade 4.2x" for "cascade: intensity 4.2x baseline", "vol" for a volatility one."""
    if reason.startswith("cascade"):
        words = reason.split()
        return f"cascade {words[2]}" if len(words) > 2 else "cascade"
    return "vol" if reason.startswith("volatility") else reason


CASCADE_SHOWN = 3.0  # a side's flow at this many times its baseline is drawn as an alarm


def _latest(bucket: Sequence[float]) -> float:
    """A sparkline bar shows where its stretch of the session ended, not its extreme."""
    return bucket[-1]


class Trend(Horizontal):
    """One labelled Textual ``Sparkline`` of a series sampled over the session."""

    DEFAULT_CSS = """
    Trend { height: 1; }
    Trend > .trend--label { width: 10; color: $muted; }
    Trend > Sparkline { width: 1fr; }
    """

    def __init__(self, label: str, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.line = Sparkline([], summary_function=_latest)
        self._label = label

    def compose(self) -> ComposeResult:
        yield Static(self._label, classes="trend--label")
        yield self.line


class ExposureBox(Vertical):
    """The exposure pane: the numbers, then the session's position and net PnL (issue 16) and
    each side's aggressive flow over its baseline (issue 20) as sparklines, one point a second
    over the last ten minutes."""

    HISTORY_S = 600

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.numbers = ExposurePane()
        self.position_trend = Trend("pos trend")
        self.pnl_trend = Trend("PnL trend")
        # Issue 20: each side's aggressive flow over its baseline, a cascade as a spike.
        self.buy_trend = Trend("buy flow", classes="flow-trend")
        self.sell_trend = Trend("sell flow", classes="flow-trend")
        self._positions: deque[float] = deque(maxlen=self.HISTORY_S)
        self._pnls: deque[float] = deque(maxlen=self.HISTORY_S)
        self._buys: deque[float] = deque(maxlen=self.HISTORY_S)
        self._sells: deque[float] = deque(maxlen=self.HISTORY_S)
        self._sampled_at = float("-inf")

    def compose(self) -> ComposeResult:
        yield self.numbers
        yield self.position_trend
        yield self.pnl_trend
        yield self.buy_trend
        yield self.sell_trend

    def show(self, view: ConsoleView) -> None:
        self.numbers.show(view)
        if view.time - self._sampled_at >= 1.0:
            self._sampled_at = view.time
            self._positions.append(float(view.position))
            self._pnls.append(view.pnl())
            self.position_trend.line.data = tuple(self._positions)
            self.pnl_trend.line.data = tuple(self._pnls)
            signals = view.signals
            if signals is not None:
                self._buys.append(signals.cascade.get(Side.BID, 1.0))
                self._sells.append(signals.cascade.get(Side.ASK, 1.0))
                self.buy_trend.line.data = tuple(self._buys)
                self.sell_trend.line.data = tuple(self._sells)
