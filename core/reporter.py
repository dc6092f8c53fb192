"""The headless reporter: one status line a second (or a JSON object), then a summary.

It reads ``ConsoleView``s only, like the console does, and shows the same truths in text: mode,
mid, position, orders by state, fills, rejections by class, backoff left, recovery state, worst
case, and the one reason each side is not quoting (D27).  It never touches the maker.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from core.events import HeartbeatState, Side
from core.orders import OrderState
from core.runner import RunResult
from core.units import Instrument
from core.view import ConsoleView, Counters

# The status line's "orders": every order the maker still follows, by state -- the live ones
# (``OrderState.is_live``: they may rest on the venue), then those that only await late fills
# (``CancelConfirmed``; the console's order pane counts them the same way).  Not "live": the
# headless line has always shown both, and it names each state, so it stays as it was.
_SHOWN_STATES = tuple(s for s in OrderState if s.is_live) + tuple(
    s for s in OrderState if not s.is_live and not s.is_terminal
)
# What the venue told us that did not add up (D34, D35), by counter (``Counters.anomalies``):
# shown wherever it is > 0.
ANOMALIES = {
    "inconsistent_fills": "altered trade repeats",
    "unknown_statuses": "unknown statuses",
    "malformed_rows": "unreadable rows",
    "illegal_transitions": "contradictory updates",
    "closed_pnl_mismatches": "closed-PnL disagreements",
}


def _iso(epoch: float | None) -> str | None:
    """Unix seconds as ISO 8601 UTC to the millisecond ("2026-12-06T09:58:01.123Z")."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"


def venue_anomalies(counters: Counters) -> str:
    """ "2 unknown statuses, 1 unreadable rows": the anomalies seen, or "" when none."""
    return ", ".join(f"{n} {ANOMALIES[key]}" for key, n in counters.anomalies().items())


class HeadlessReporter:
    """One status line a second on ``out``.  When ``out`` is closed under it (``| head``, a
    log collector gone) nobody can see the engine any more: ``on_gone`` is told once (the
    command line stops the engine, cancelling everything, as a lost console does) and nothing
    more is written."""

    def __init__(
        self,
        instrument: Instrument,
        *,
        json_lines: bool,
        out: TextIO,
        on_gone: Callable[[str], None] | None = None,
    ) -> None:
        self.instrument = instrument
        self.json_lines = json_lines
        self.out = out
        self.on_gone = on_gone
        self.gone = False
        self._last: float | None = None
        self.lines = 0
        self._journal_told = False

    def on_view(self, view: ConsoleView) -> None:
        journal = view.journal
        if journal is not None and journal.path and journal.failed and not self._journal_told:
            self._journal_told = True  # reported once (issue 17)
            print(f"mm-console: the session is not recorded: {journal.failed}", file=sys.stderr)
        if self.gone or (self._last is not None and view.time - self._last < 1.0):
            return
        self._last = view.time
        line = json.dumps(self.status(view)) if self.json_lines else self.line(view)
        try:
            self.out.write(line + "\n")
            self.out.flush()
        except (BrokenPipeError, ValueError):  # ValueError: the file object was closed
            self.gone = True
            if self.on_gone is not None:
                self.on_gone("status output closed")
            return
        self.lines += 1

    def _px(self, ticks: int | None) -> str:
        return "-" if ticks is None else str(self.instrument.ticks_to_price(ticks))

    def _sz(self, lots: int) -> str:
        return str(self.instrument.lots_to_size(lots))

    def status(self, v: ConsoleView) -> dict[str, Any]:
        mid = None if v.best_bid is None or v.best_ask is None else (v.best_bid + v.best_ask) // 2
        ex = v.exposure
        return {
            "t": round(v.time, 3),
            "utc": _iso(v.epoch(v.time)),  # issue 16: the calendar's time, to the millisecond
            "mode": v.mode.value,
            "mode_reason": v.mode_reason,
            "mid": self._px(mid),
            "position": self._sz(v.position),
            "pnl": round(v.pnl(), 4),
            "orders": {state.value: n for state, n in v.state_counts.items()},
            "untracked_venue_orders": v.untracked_venue_orders,
            "fills": v.counters.fills,
            "rejections": {k.value: n for k, n in v.rejection_counts.items() if n},
            "backoff": {b.side.value: round(b.remaining, 1) for b in v.backoff},
            "recovery": v.recovery.state.value,
            "worst_case": [
                self._sz(ex.worst_case_min_position),
                self._sz(ex.worst_case_max_position),
            ],
            "worst_case_breached": ex.breached,
            "not_quoting": {s.value: r for s, r in v.side_reasons.items() if r},
            "stalled_levels": dict(v.stalls),
            "anomalies": v.counters.anomalies(),
            "data_age": None if v.data_age is None else round(v.data_age, 2),
            "loop_lag_ms": round(v.loop_lag * 1000, 1),
            "signals": _signals(v),
            "pnl_parts": pnl_parts(v),  # D36: net = realised + unrealised - fees + funding
            "spread": _spread(v),  # issue 20: half-spread per side, ticks, and why
            "settlement": self._settlement(v),  # D38: what the venue may still undo
            "heartbeat": _heartbeat(v),  # D40: the venue's dead-man switch
        }

    def _settlement(self, v: ConsoleView) -> dict[str, Any]:
        ex = v.exposure
        return {
            "confirmed_position": self._sz(ex.confirmed_position),
            "pending_bought": self._sz(ex.unsettled_bought),
            "pending_sold": self._sz(ex.unsettled_sold),
            "failed_fills": v.counters.failed_fills,
        }

    def line(self, v: ConsoleView) -> str:
        s = self.status(v)
        orders = (
            " ".join(
                f"{k.value}:{v.state_counts[k]}" for k in _SHOWN_STATES if v.state_counts.get(k)
            )
            or "none"
        )
        rej = " ".join(f"{k}:{n}" for k, n in s["rejections"].items()) or "0"
        reasons = " ".join(f"{k}:{r}" for k, r in s["not_quoting"].items())
        bid_backoff = s["backoff"].get(Side.BID.value, 0.0)
        ask_backoff = s["backoff"].get(Side.ASK.value, 0.0)
        mode = s["mode"]
        if v.mode_reason:
            mode = f"{mode} ({v.mode_reason})"  # D37: a halt or kill says why, here too
        parts = [
            f"{v.time:10.1f}" if s["utc"] is None else s["utc"],
            mode,
            f"mid {s['mid']}",
            f"pos {s['position']}",
            f"pnl {s['pnl']:+.2f} ({_parts_text(s['pnl_parts'])})",
            f"orders {orders}",
            f"fills {s['fills']}",
            f"rej {rej}",
            f"backoff b{bid_backoff:.1f}/a{ask_backoff:.1f}",
            f"rec {s['recovery']}",
            f"wc {s['worst_case'][0]}..{s['worst_case'][1]}"
            + (" BREACH" if s["worst_case_breached"] else ""),
        ]
        signals = s["signals"]
        if signals is not None:
            sigma = signals["volatility_ticks"]
            parts.append(
                f"vol {'warming' if sigma is None else f'{sigma:.1f}t'} "
                f"cascade b{signals['cascade']['bid']:.1f}/a{signals['cascade']['ask']:.1f}"
            )
        spread = s["spread"]
        if spread is not None:
            parts.append(
                "spread "
                + " ".join(
                    side[0]
                    + ("PULLED" if row["pulled"] else f"{row['half_spread_ticks']}t")
                    + (f" ({row['reason']})" if row["reason"] else "")
                    for side, row in spread.items()
                )
            )
        settling = s["settlement"]
        ex = v.exposure
        if ex.unsettled_bought or ex.unsettled_sold or settling["failed_fills"]:
            parts.append(
                f"settling +{settling['pending_bought']}/-{settling['pending_sold']} "
                f"(confirmed {settling['confirmed_position']}, failed {settling['failed_fills']})"
            )
        beat = v.heartbeat
        if beat is not None:
            word = _beat_word(beat)
            parts.append(f"heartbeat {word} ({beat.text})" if beat.lapsed else f"heartbeat {word}")
        if reasons:
            parts.append(f"not quoting {reasons}")
        if v.stalls:
            parts.append("waiting " + " ".join(f"{k}:{r}" for k, r in v.stalls.items()))
        anomalies = venue_anomalies(v.counters)
        if anomalies:
            parts.append(f"anomalies {anomalies}")
        if v.untracked_venue_orders:
            parts.append(f"untracked {v.untracked_venue_orders}")
        return " | ".join(parts)

    def summary(self, v: ConsoleView | None, result: RunResult) -> dict[str, Any]:
        return session_summary(self.instrument, v, result)


def _heartbeat(v: ConsoleView) -> dict[str, Any] | None:
    beat = v.heartbeat
    if beat is None:
        return None
    return {"armed": beat.armed, "lapsed": beat.lapsed, "text": beat.text}


def _beat_word(beat: HeartbeatState) -> str:
    return "LAPSED" if beat.lapsed else "armed" if beat.armed else "not armed"


def _spread(v: ConsoleView) -> dict[str, Any] | None:
    spreads = v.spreads
    if spreads is None:
        return None
    return {
        side.value: {
            "half_spread_ticks": row.half_spread,
            "pulled": row.pulled,
            "reason": row.reason,
        }
        for side, row in spreads.items()
    }


def pnl_parts(v: ConsoleView) -> dict[str, Any]:
    """D36: the parts of net PnL in the quote currency, and the venue's closed-PnL check."""
    parts: dict[str, Any] = {
        "realized": round(v.realized_pnl, 6),
        "unrealized": round(v.unrealized_pnl, 6),
        "fees": 0.0,
        "funding": 0.0,
    }
    costs = v.costs
    if costs is None:
        return parts
    parts["fees"] = round(costs.fees, 6)
    parts["funding"] = round(costs.funding, 6)
    if costs.other_fees:
        parts["fees_in_other_tokens"] = {token: round(f, 6) for token, f in costs.other_fees}
    if costs.closed_checked:
        parts["closed_pnl_check"] = {
            "fills": costs.closed_checked,
            "ours": round(costs.closed_ours, 6),
            "venue": round(costs.closed_venue, 6),
            "disagreements": costs.closed_mismatches,
        }
    return parts


def _parts_text(parts: dict[str, Any]) -> str:
    text = (
        f"real {parts['realized']:+.2f} unreal {parts['unrealized']:+.2f} "
        f"fees {parts['fees']:.2f} funding {parts['funding']:+.2f}"
    )
    check = parts.get("closed_pnl_check")
    if check is not None and check["disagreements"]:
        text += f" closedPnl DISAGREES x{check['disagreements']}"
    return text


def _signals(v: ConsoleView) -> dict[str, Any] | None:
    """Issue 20: one sigma of the mid over a second in ticks (None while warming up) and the
    cascade ratio per aggressor side."""
    signals = v.signals
    if signals is None:
        return None
    return {
        "volatility_ticks": round(signals.volatility_ticks, 3)
        if signals.volatility_ready
        else None,
        "cascade": {side.value: round(r, 2) for side, r in signals.cascade.items()},
    }


def session_summary(
    instrument: Instrument, v: ConsoleView | None, result: RunResult
) -> dict[str, Any]:
    """How a session ended: one set of numbers for the headless text, ``--json`` and the
    console's quit summary, so that they agree (issue 16 item 6)."""
    out: dict[str, Any] = {
        "stopped": result.reason,
        "mode": result.mode.value,
        "mode_reason": result.mode_reason,  # D37: why it halted or was killed
        "exit_code": result.exit_code,
        "live_orders_left": result.live_orders,
        "untracked_venue_orders": result.untracked_venue_orders,
        "sweep": result.sweep.value or "-",
        "engine_errors": len(result.errors),
    }
    if result.liquidations:
        out["liquidations"] = result.liquidations  # D41: the account was liquidated
    if v is None:
        return out
    if v.instrument.title:
        out["market"] = v.instrument.title  # Polymarket: the question and the outcome quoted
    c = v.counters
    out.update(
        {
            "position": str(instrument.lots_to_size(v.position)),
            "realized_pnl": round(v.realized_pnl, 4),
            "unrealized_pnl": round(v.unrealized_pnl, 4),
            "fees": round(v.costs.fees, 6) if v.costs is not None else 0.0,
            "funding": round(v.costs.funding, 6) if v.costs is not None else 0.0,
            "pnl": round(v.pnl(), 4),  # net (D36)
            # Every fill that moved the position (late and unmatched ones included), and how
            # many of them came late or for no known order.
            "fills": c.fills,
            "provisional_fills": c.provisional_fills,  # D38: counted before they were final
            "failed_fills": c.failed_fills,  # D38: voided by the venue, each reversed once
            "late_fills": c.late_fills,
            "unmatched_fills": c.unmatched_fills,
            "duplicate_fills_ignored": c.duplicate_fills,
            "places_sent": c.places_sent,
            "modifies_sent": c.modifies_sent,  # a re-price is a modify
            "cancels_sent": c.cancels_sent,
            "cancel_alls_sent": c.cancel_alls_sent,
            "rejections": {k.value: n for k, n in v.rejection_counts.items() if n},
            "kill_triggers": [t.reason for t in v.kill_triggers],
            "anomalies": c.anomalies(),
        }
    )
    check = pnl_parts(v).get("closed_pnl_check")
    if check is not None:
        out["closed_pnl_check"] = check  # D36: our realised PnL against the venue's closedPnl
    journal = v.journal
    if journal is not None:
        # Issue 17: where the session was recorded, or why it was not.
        out["journal"] = f"NOT RECORDED: {journal.failed}" if journal.failed else journal.path
    return out


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as ``key: value`` lines (the headless text and the console's quit)."""
    return [f"{key}: {value}" for key, value in summary.items()]
