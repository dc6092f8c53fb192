"""The small panes: header, rejections, recovery and fills (the exposure pane is in
``tui.exposure``, the event log in ``tui.eventlog``).

Each pane has ``show(view)`` and draws only from the ``ConsoleView`` it is given; a pane whose
text did not change since the last frame is not repainted.  Colours are component classes
styled in console.tcss with the theme's variables ($bid, $ask, $danger ...).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from core.events import Side
from core.recovery import RecoveryState
from core.reporter import venue_anomalies
from core.view import ConsoleView, Mode, SweepPhase
from tui import fmt

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
        t.append("  net PnL ", self.style_of("header--label"))  # D36: after fees and funding
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
        if inst.max_leverage > 1:
            t.append("  lev ", self.style_of("header--label"))
            t.append(f"{view.leverage}x")
        beat = view.heartbeat
        if beat is not None:
            # D40: the venue's dead-man switch: armed, or lapsed (every order presumed gone).
            t.append("  ♥ ", self.style_of("header--label"))
            if beat.lapsed:
                t.append("LAPSED", self.style_of("header--danger"))
            else:
                word, style = (
                    ("armed", "header--good") if beat.armed else ("not armed", "header--warn")
                )
                t.append(word, self.style_of(style))
        if view.epoch_offset is not None:
            t.append(f"  {fmt.utc(view.epoch(view.time))[:8]}Z", self.style_of("header--label"))
            if view.started is not None:
                t.append(f" up {fmt.ago(view.time - view.started)}")
        t.append("\n")
        # Line two: why the engine is not doing what its mode says (first: the narrowest
        # terminal keeps it), then the market -- in every mode -- then the last sweep's outcome.
        detail = view.mode_reason or _not_quoting(view)
        if view.liquidation and view.liquidation not in detail:
            detail = f"LIQUIDATED: {view.liquidation} (r acknowledges) {detail}".strip()
        if view.sweep.is_active:
            detail = f"{detail}  sweep: {view.sweep.value}".strip()
        if detail:
            danger = view.mode in (Mode.KILLED, Mode.HALTED) or bool(view.liquidation)
            t.append(f" {detail} ·", self.style_of("header--danger" if danger else "header--warn"))
        mid = (
            fmt.price(inst, (view.best_bid + view.best_ask) // 2)
            if view.best_bid is not None and view.best_ask is not None
            else "-"
        )
        t.append(
            f" {inst.title or inst.symbol}  bid {fmt.price(inst, view.best_bid)}  ask "
            f"{fmt.price(inst, view.best_ask)}  mid≈{mid}",
            self.style_of("header--label"),
        )
        journal = view.journal
        if journal is not None and journal.failed:
            # Issue 17: a session that is no longer recorded says so on every frame.
            t.append(f"  · NOT RECORDED: {journal.failed}", self.style_of("header--danger"))
        last = view.last_sweep
        if last is not None and not view.sweep.is_active:
            outcome, at, epoch = last.phase, last.at, view.epoch(last.at)
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
