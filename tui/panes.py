"""The small panes: header, exposure, rejections, recovery, fills and the event log.

Each pane has ``show(view)`` and draws only from the ``ConsoleView`` it is given; a pane whose
text did not change since the last frame is not repainted.  Colours are component classes
styled in console.tcss with the theme's variables ($bid, $ask, $danger ...).  The event log is
a line-API ``RowsView`` because it can hold hundreds of lines and is filtered by order id.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import deque
from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

from core.events import Side
from core.recovery import RecoveryState
from core.reporter import venue_anomalies
from core.view import ConsoleView, LogEntry, Mode, SweepPhase
from tui import fmt
from tui.lines import Row, RowsView

_UNSTYLED = Style()
_MODE_CLASS = {
    Mode.STARTING: "header--starting",
    Mode.RUNNING: "header--running",
    Mode.PAUSED: "header--paused",
    Mode.KILLED: "header--killed",
    Mode.HALTED: "header--halted",
}


class TextPane(Static):
    """A Static that rebuilds its text from each view and repaints only on change."""

    DEFAULT_CSS = """
    TextPane { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._last: Text | None = None
        self._view: ConsoleView | None = None
        self._styles: dict[str, Style] = {}

    def show(self, view: ConsoleView) -> None:
        self._view = view
        text = self.build(view)
        last = self._last
        if last is None or text.plain != last.plain or text.spans != last.spans:
            # A layout pass re-arranges and repaints the whole screen; only a change in the
            # number of lines can change this pane's size (auto height at 80x24).
            layout = last is None or text.plain.count("\n") != last.plain.count("\n")
            self._last = text
            self.update(text, layout=layout)

    def on_resize(self) -> None:
        if self._view is not None:
            self._last = None
            self.show(self._view)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        if self._view is not None:
            self._last = None
            self.call_after_refresh(self.show, self._view)

    @abstractmethod
    def build(self, view: ConsoleView) -> Text:
        """The pane's text for one view (each pane defines it)."""

    def style_of(self, name: str) -> Style | str:
        """A component class's style, computed once per styling pass.  Before the first pass
        the component styles do not exist yet (a view can arrive between mount and that
        pass): that frame is drawn unstyled and nothing is remembered."""
        if not name:
            return ""
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(name, partial=True, default=_UNSTYLED)
            if style is _UNSTYLED:
                return style
            self._styles[name] = style
        return style


def _not_quoting(view: ConsoleView) -> str:
    """RUNNING while a side quotes nothing says so and why (issue 16, D27): "not quoting:
    backoff RateLimit 10.0s", or each side's reason when they differ."""
    if view.mode is not Mode.RUNNING:
        return ""
    idle = {side: why for side, why in view.side_reasons.items() if why}
    if not idle:
        return ""
    if len(idle) == 2 and len(set(idle.values())) == 1:
        return f"not quoting: {next(iter(idle.values()))}"
    return "not quoting " + " · ".join(f"{side.value}: {why}" for side, why in idle.items())


class HeaderPane(TextPane):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *_MODE_CLASS.values(),
        "header--label",
        "header--warn",
        "header--danger",
        "header--good",
    }

    prompt: tuple[str, str] | None = None  # the kill confirmation, while one is armed
    # The last sweep that ended (outcome, Unix time or None, view time): it stays on screen.
    _last_sweep: tuple[SweepPhase, float | None, float] | None = None
    _sweep_seen: tuple[SweepPhase, bool] = (SweepPhase.IDLE, False)

    def show_prompt(self, prompt: tuple[str, str] | None) -> None:
        """Show the kill confirmation in place of the header (``None`` restores it).  The
        header repaints two lines: no screen, no layout pass, so it appears within a frame."""
        self.prompt = prompt
        if self._view is not None:
            self.show(self._view)
        elif prompt is not None:  # armed before the first view arrived: show it anyway
            self.update(self._prompt_text(prompt))

    def _prompt_text(self, prompt: tuple[str, str]) -> Text:
        title, keys = prompt
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" KILL? ", self.style_of("header--killed"))
        t.append(f" {title}", self.style_of("header--danger"))
        t.append(f"\n {keys}", self.style_of("header--warn"))
        return t

    def build(self, view: ConsoleView) -> Text:
        if self.prompt is not None:
            return self._prompt_text(self.prompt)
        inst = view.instrument
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f" {view.mode.value} ", self.style_of(_MODE_CLASS[view.mode]))
        if view.recovery.state is not RecoveryState.IDLE:
            # The recovery pane folds away on small terminals: its state never does (D15).
            t.append(f" RECOVERY {view.recovery.state.value}", self.style_of("header--warn"))
        t.append(f" {view.venue} ", self.style_of("header--label"))
        link = ("● up", "header--good") if view.connected else ("○ DOWN", "header--danger")
        t.append(link[0], self.style_of(link[1]))
        t.append("  pos ", self.style_of("header--label"))
        t.append(fmt.signed_size(inst, view.position))
        t.append("  PnL ", self.style_of("header--label"))
        pnl = view.pnl()
        t.append(fmt.money(pnl), self.style_of("header--danger" if pnl < 0 else "header--good"))
        t.append("  data ", self.style_of("header--label"))
        stale = view.data_age is None or view.data_age > 2.0
        t.append(fmt.age(view.data_age), self.style_of("header--warn" if stale else ""))
        t.append("  lag ", self.style_of("header--label"))
        lag_ms = view.loop_lag * 1000
        t.append(f"{lag_ms:.0f}ms", self.style_of("header--warn" if lag_ms > 50 else ""))
        if view.answer_s is not None:
            answer_ms = view.answer_s * 1000
            t.append("  venue ", self.style_of("header--label"))
            t.append(f"{answer_ms:.0f}ms", self.style_of("header--warn" if answer_ms > 500 else ""))
        t.append("  lev ", self.style_of("header--label"))
        t.append(f"{view.leverage}x")
        if view.epoch_offset is not None:
            t.append(f"  {fmt.utc(view.epoch(view.time))[:8]}Z", self.style_of("header--label"))
            if view.started is not None:
                t.append(f" up {fmt.ago(view.time - view.started)}")
        t.append("\n")
        # Line two: why the engine is not doing what its mode says (first: the narrowest
        # terminal keeps it), then the market -- in every mode -- then the last sweep's outcome.
        detail = view.mode_reason or _not_quoting(view)
        if view.sweep.is_active:
            detail = f"{detail}  sweep: {view.sweep.value}".strip()
        if detail:
            danger = view.mode in (Mode.KILLED, Mode.HALTED)
            t.append(f" {detail} ·", self.style_of("header--danger" if danger else "header--warn"))
        mid = (
            fmt.price(inst, (view.best_bid + view.best_ask) // 2)
            if view.best_bid is not None and view.best_ask is not None
            else "-"
        )
        t.append(
            f" {inst.symbol}  bid {fmt.price(inst, view.best_bid)}  ask "
            f"{fmt.price(inst, view.best_ask)}  mid≈{mid}",
            self.style_of("header--label"),
        )
        ended = view.sweep in (SweepPhase.VERIFIED, SweepPhase.FAILED)
        if ended and self._sweep_seen != (view.sweep, True):
            self._sweep_seen = (view.sweep, True)
            self._last_sweep = (view.sweep, view.epoch(view.time), view.time)
        elif view.sweep.is_active:
            self._sweep_seen = (view.sweep, False)
        if self._last_sweep is not None and not view.sweep.is_active:
            outcome, epoch, at = self._last_sweep
            when = (
                f"{fmt.utc(epoch)[:8]}Z" if epoch is not None else f"{fmt.ago(view.time - at)} ago"
            )
            verified = outcome is SweepPhase.VERIFIED
            text = "venue verified empty" if verified else "NOT verified"
            t.append(
                f"  · last cancel-all: {text} {when}",
                self.style_of("header--good" if verified else "header--danger"),
            )
        return t


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
        limit = max(1, view.limits.max_position)
        width = max(4, self.content_region.width - 27)
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("position  ", self.style_of("exposure--label"))
        t.append(f"{fmt.signed_size(inst, ex.position):>10}")
        t.append(f"   limit ±{fmt.size(inst, limit)}\n", self.style_of("exposure--label"))
        t.append("pending   ", self.style_of("exposure--label"))
        t.append(f"bid {fmt.size(inst, ex.pending_bid)}", self.style_of("exposure--bid"))
        t.append("  ")
        t.append(f"ask {fmt.size(inst, ex.pending_ask)}\n", self.style_of("exposure--ask"))
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
        if ex.breached:
            t.append(
                " ⚠ worst case beyond the position limit (warning, orders not blocked) ",
                self.style_of("exposure--breach"),
            )
        t.rstrip()
        return t


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

    def __init__(self, label: str) -> None:
        super().__init__()
        self.line = Sparkline([], summary_function=_latest)
        self._label = label

    def compose(self) -> ComposeResult:
        yield Static(self._label, classes="trend--label")
        yield self.line


class ExposureBox(Vertical):
    """The exposure pane: the numbers, then the session's position and net PnL as sparklines
    (issue 16), one point a second over the last ten minutes."""

    HISTORY_S = 600

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.numbers = ExposurePane()
        self.position_trend = Trend("pos trend")
        self.pnl_trend = Trend("PnL trend")
        self._positions: deque[float] = deque(maxlen=self.HISTORY_S)
        self._pnls: deque[float] = deque(maxlen=self.HISTORY_S)
        self._sampled_at = float("-inf")

    def compose(self) -> ComposeResult:
        yield self.numbers
        yield self.position_trend
        yield self.pnl_trend

    def show(self, view: ConsoleView) -> None:
        self.numbers.show(view)
        if view.time - self._sampled_at >= 1.0:
            self._sampled_at = view.time
            self._positions.append(float(view.position))
            self._pnls.append(view.pnl())
            self.position_trend.line.data = tuple(self._positions)
            self.pnl_trend.line.data = tuple(self._pnls)


class RejectionsPane(TextPane):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rejections--label",
        "rejections--count",
        "rejections--backoff",
        "rejections--text",
    }

    def build(self, view: ConsoleView) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        counts = [(c, n) for c, n in view.rejection_counts.items() if n]
        if not counts:
            t.append("no rejections", self.style_of("rejections--label"))
        for rclass, count in counts:
            t.append(f"{rclass.value} ", self.style_of("rejections--label"))
            t.append(f"{count}  ", self.style_of("rejections--count"))
        t.append("\n")
        anomalies = venue_anomalies(view.counters)
        if anomalies:
            t.append("venue anomalies ", self.style_of("rejections--label"))  # D34, D35
            t.append(anomalies + "\n", self.style_of("rejections--backoff"))
        for b in view.backoff:
            t.append(f"{b.side.value} ", self.style_of("rejections--label"))
            if b.remaining > 0:
                what = b.rclass.value if b.rclass is not None else "backoff"
                t.append(
                    f"backoff {what} {b.remaining:4.1f}s"
                    + (f" ({b.consecutive} in a row)" if b.consecutive else ""),
                    self.style_of("rejections--backoff"),
                )
            elif b.consecutive:
                t.append(f"clear ({b.consecutive} in a row)")
            else:
                t.append("clear")
            t.append("\n")
        shown = max(0, self.content_region.height - 3)
        for r in reversed(view.rejection_texts[-shown:] if shown else ()):
            t.append(
                f"{fmt.ago(view.time - r.time):>6} {r.side.value} ",
                self.style_of("rejections--label"),
            )
            t.append(f"{r.rclass.value}: {r.reason}\n", self.style_of("rejections--text"))
        t.rstrip()
        return t


class RecoveryPane(TextPane):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"recovery--label", "recovery--active"}

    def build(self, view: ConsoleView) -> Text:
        r = view.recovery
        active = r.state is not RecoveryState.IDLE
        self.set_class(active, "-active")
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("recovery ", self.style_of("recovery--label"))
        t.append(r.state.value, self.style_of("recovery--active" if active else ""))
        t.append("  IOC attempts ", self.style_of("recovery--label"))
        t.append(str(r.attempts))
        t.append("  cooldown ", self.style_of("recovery--label"))
        t.append(f"{r.cooldown_left:.1f}s")
        if r.last_reason:
            t.append("\n")
            t.append(r.last_reason, self.style_of("recovery--label"))
        return t


class FillsPane(TextPane):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fills--head",
        "fills--bid",
        "fills--ask",
        "fills--flag",
    }

    def build(self, view: ConsoleView) -> Text:
        inst = view.instrument
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(
            f"{'ago':>6} {'side':<4} {'price':>9} {'size':>8} {'tid':>9} {'liq':<5} flag\n",
            self.style_of("fills--head"),
        )
        shown = max(0, self.content_region.height - 1)
        for f in reversed(view.fills[-shown:] if shown else ()):
            cls = "fills--bid" if f.side is Side.BID else "fills--ask"
            tid = fmt.short_tid(f.tid)
            liq = f.liquidity.value if f.liquidity is not None else "-"
            t.append(
                f"{fmt.ago(view.time - f.time):>6} {f.side.value:<4} "
                f"{fmt.price(inst, f.price):>9} {fmt.size(inst, f.size):>8} {tid:>9} {liq:<5} ",
                self.style_of(cls),
            )
            t.append(f"{f.flagged}\n", self.style_of("fills--flag"))
        t.rstrip()
        return t


class EventLog(RowsView, can_focus=True):
    """The event log, newest first: ``HISTORY`` entries of its own, however fast the engine
    logs (the engine's view carries only its last few hundred), filtered by a cloid or oid
    (``filter``) and by kind (``kind``).  Order transitions flood it, so they are hidden
    unless asked for (``kind`` "all" or "transition") or an id is filtered (an order's history
    is its transitions).  Focus it (tab) to scroll back (issue 16)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"log--time", "log--kind", "log--danger", "log--text"}
    _DANGER = frozenset({"kill", "rejection", "connection", "halt", "illegal"})
    VIRTUAL_STEP = 64
    HISTORY = 10_000
    # What the kind filter cycles through: None hides transitions, "all" shows everything.
    KINDS: tuple[str | None, ...] = (
        None,
        "all",
        "kill",
        "sweep",
        "reconcile",
        "fill",
        "venue",
        "connection",
        "operator",
        "recovery",
        "transition",
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter = ""
        self.kind: str | None = None
        self._history: deque[LogEntry] = deque(maxlen=self.HISTORY)
        self._last: LogEntry | None = None  # the newest entry taken from a view
        self._shown: tuple[str, str | None] | None = None  # the filters the rows are for
        self._log_rows: list[Row] = []  # newest first, for the filters in ``_shown``
        self._hidden = 0  # transitions the default filter hides
        self._offset: float | None = None

    def cycle_kind(self) -> str | None:
        self.kind = self.KINDS[(self.KINDS.index(self.kind) + 1) % len(self.KINDS)]
        return self.kind

    def _matches(self, e: LogEntry) -> bool:
        key = self.filter.lower()
        if key and not (
            (e.cloid is not None and key in e.cloid.lower())
            or (e.oid is not None and key == str(e.oid))
        ):
            return False
        kind = self.kind
        if kind is None:
            return e.kind != "transition" or bool(key)
        return kind == "all" or e.kind == kind

    def _row(self, e: LogEntry) -> Row:
        kind_cls = "log--danger" if e.kind in self._DANGER else "log--kind"
        ids = f" [{fmt.short_cloid(e.cloid)}]" if e.cloid is not None else ""
        # UTC to the millisecond when the runner knows the calendar (issue 16), else the
        # session's own seconds (virtual time).
        offset = self._offset
        when = f"{e.time:10.1f}" if offset is None else fmt.utc(e.time + offset)
        return (
            (f"{when} ", "log--time"),
            (f"{e.kind:<10.10} ", kind_cls),
            (e.text + ids, "log--text"),
        )

    def _take_new(self, log: Sequence[LogEntry]) -> Sequence[LogEntry]:
        """The view's entries newer than the last one taken (entries are shared objects)."""
        last = self._last
        if last is not None:
            for i in range(len(log) - 1, -1, -1):
                if log[i] is last:
                    return log[i + 1 :]
        return log

    def show(self, view: ConsoleView) -> None:
        self._offset = view.epoch_offset
        new = self._take_new(view.log)
        if new:
            self._last = new[-1]
            self._history.extend(new)
        filters = (self.filter, self.kind)
        if self._shown != filters:
            self._shown = filters
            self._log_rows = [self._row(e) for e in reversed(self._history) if self._matches(e)]
            self._hidden = (
                sum(1 for e in self._history if e.kind == "transition")
                if self.kind is None and not self.filter
                else 0
            )
        elif new:
            fresh = [self._row(e) for e in reversed(new) if self._matches(e)]
            if self.kind is None and not self.filter:
                self._hidden += sum(1 for e in new if e.kind == "transition")
            if fresh:
                self._log_rows[:0] = fresh
                del self._log_rows[self.HISTORY :]
        else:
            return  # nothing new, nothing changed
        rows = list(self._log_rows)
        if self._hidden:
            rows.insert(0, ((f"{self._hidden} order transitions hidden", "log--kind"),))
        if not self._log_rows:
            if self.filter:
                empty = f"no log entries match {self.filter!r}"
            elif self.kind is None:
                empty = "nothing logged but order transitions (L shows them)"
            else:
                empty = f"no {self.kind} entries"
            rows.append(((empty, "log--kind"),))
        self.set_rows(rows)
