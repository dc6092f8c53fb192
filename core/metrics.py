"""Prometheus metrics from the published view (issue 17): what the engine believes, for
dashboards and alerts outside the process.

``MetricsExporter`` owns a registry of its own and serves it with the official
``prometheus_client`` HTTP server on 127.0.0.1 only (D21: never an open port on a trading
host).  It is fed the same ``ConsoleView`` the console and the headless reporter read, at the
publisher's rate, never from inside ``handle``: scraping cannot slow a reaction.  The seeds'
gauges keep their names (``mm_pending_bid_exposure``, ``mm_pending_ask_exposure``,
``mm_worst_case_max_position``, ``mm_worst_case_min_position``); sizes are in coin units, money
in the quote currency.  Monotonic counts are exported as gauges of their running total (the
engine owns the count; the exporter only mirrors it), so ``rate()`` and ``increase()`` work.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, start_http_server

from core.clock import monotonic_now, unix_now
from core.orders import OrderState
from core.view import ConsoleView, Mode, SweepPhase

_REQUEST_COUNTERS = (
    "places_sent",
    "modifies_sent",
    "cancels_sent",
    "cancel_alls_sent",
    "queries_sent",
    "syncs_sent",
    "fill_fetches",
)
_RATE_WINDOW_S = 10.0


class MetricsExporter:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._server: Any = None
        r = self.registry

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(name, doc, labels, registry=r)

        self.pending_bid = gauge("mm_pending_bid_exposure", "Unfilled size of live bids (coins)")
        self.pending_ask = gauge("mm_pending_ask_exposure", "Unfilled size of live asks (coins)")
        self.worst_max = gauge(
            "mm_worst_case_max_position", "Position if every live bid fills (coins)"
        )
        self.worst_min = gauge(
            "mm_worst_case_min_position", "Position if every live ask fills (coins)"
        )
        self.position = gauge("mm_position", "Position (coins; negative is short)")
        self.pnl = gauge(
            "mm_pnl", "Net PnL: realized + unrealized - fees + funding (quote currency, D36)"
        )
        self.realized = gauge("mm_realized_pnl", "Realized PnL (quote currency)")
        self.orders = gauge("mm_orders", "Tracked orders by lifecycle state", ("state",))
        self.untracked = gauge("mm_untracked_venue_orders", "Venue orders we do not track")
        self.fills = gauge("mm_fills_total", "Fills that moved the position")
        self.rejections = gauge("mm_rejections_total", "Rejections by class", ("rejection_class",))
        self.backoff = gauge(
            "mm_backoff_remaining_seconds", "Placement backoff left, per side", ("side",)
        )
        self.killed = gauge("mm_kill_switch_latched", "1 while the kill switch is latched")
        self.halted = gauge("mm_halted", "1 once the engine has halted (D37)")
        self.mode = gauge("mm_mode", "1 for the engine's current mode", ("mode",))
        self.sweep = gauge("mm_sweep_phase", "1 for the cancel-all's current phase", ("phase",))
        self.requests = gauge("mm_requests_total", "Requests sent to the venue, by kind", ("kind",))
        self.request_rate = gauge(
            "mm_request_rate_per_second", f"Requests per second over {_RATE_WINDOW_S:g} s"
        )
        self.loop_lag = gauge("mm_loop_lag_seconds", "How late the engine's timer woke")
        self.data_age = gauge("mm_market_data_age_seconds", "Age of the newest market data")
        self.connected = gauge("mm_connected", "1 while the venue's stream is connected")
        self.disconnects = gauge("mm_disconnects_total", "Times the venue's stream was lost")
        self.answer = gauge("mm_venue_answer_seconds", "Median venue answer time (recent)")
        self.journal_lag = gauge(
            "mm_journal_lag_seconds", "How long the oldest unwritten journal input has waited"
        )
        self.journal_bytes = gauge("mm_journal_bytes", "Size of the session's journal")
        self.journal_failed = gauge("mm_journal_failed", "1 when the journal stopped recording")
        self.events = gauge("mm_events_total", "Venue events handled")
        self.anomalies = gauge(
            "mm_venue_anomalies_total", "Venue messages that did not add up", ("kind",)
        )
        self.volatility = gauge(
            "mm_volatility_ticks", "One sigma of the mid over a second, ticks (NaN: warming up)"
        )
        self.cascade = gauge(
            "mm_cascade_ratio",
            "Aggressive flow's intensity over its slow baseline, per aggressor side",
            ("side",),
        )
        self.liquidations = gauge("mm_liquidations_total", "Liquidations of our account (D41)")
        self.half_spread = gauge(
            "mm_half_spread_ticks", "Each side's half-spread from the signals, ticks", ("side",)
        )
        self.pulled = gauge("mm_side_pulled", "1 while a side is pulled in a cascade", ("side",))
        self.fees = gauge("mm_fees", "Fees paid this session, quote currency (D36)")
        self.funding = gauge("mm_funding", "Funding received this session, quote currency (D36)")
        self.updated = gauge("mm_view_time_seconds", "Unix time of the view last exported")
        self._requests_seen: deque[tuple[float, int]] = deque()

    def serve(self, port: int) -> int:
        """Listen on 127.0.0.1:``port`` (0: any free port); returns the port."""
        server, _thread = start_http_server(port, addr="127.0.0.1", registry=self.registry)
        self._server = server
        return int(server.server_port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def update(self, view: ConsoleView) -> None:
        """Mirror one published view (the runner's publisher thread or loop calls this)."""
        lots_to_size = view.instrument.lots_to_size

        def size(lots: int) -> float:
            return float(lots_to_size(lots))

        ex = view.exposure
        self.pending_bid.set(size(ex.pending_bid))
        self.pending_ask.set(size(ex.pending_ask))
        self.worst_max.set(size(ex.worst_case_max_position))
        self.worst_min.set(size(ex.worst_case_min_position))
        self.position.set(size(view.position))
        self.pnl.set(view.pnl())
        self.realized.set(view.realized_pnl)
        for state in OrderState:
            self.orders.labels(state.value).set(view.state_counts.get(state, 0))
        self.untracked.set(view.untracked_venue_orders)
        counters = view.counters
        self.fills.set(counters.fills)
        for rclass, n in view.rejection_counts.items():
            self.rejections.labels(rclass.value).set(n)
        for b in view.backoff:
            self.backoff.labels(b.side.value).set(max(0.0, b.remaining))
        self.killed.set(1 if view.mode is Mode.KILLED else 0)
        self.halted.set(1 if view.mode is Mode.HALTED else 0)
        for mode in Mode:
            self.mode.labels(mode.value).set(1 if view.mode is mode else 0)
        for phase in SweepPhase:
            self.sweep.labels(phase.value).set(1 if view.sweep is phase else 0)
        total = 0
        for kind in _REQUEST_COUNTERS:
            n = getattr(counters, kind)
            total += n
            self.requests.labels(kind.removesuffix("_sent")).set(n)
        self.request_rate.set(self._rate(total))
        self.loop_lag.set(view.loop_lag)
        self.data_age.set(view.data_age if view.data_age is not None else float("nan"))
        self.connected.set(1 if view.connected else 0)
        self.disconnects.set(counters.disconnects)
        self.answer.set(view.answer_s if view.answer_s is not None else float("nan"))
        journal = view.journal
        self.journal_lag.set(journal.lag_s if journal is not None else 0.0)
        self.journal_bytes.set(journal.size_bytes if journal is not None else 0)
        self.journal_failed.set(1 if journal is not None and journal.failed else 0)
        self.events.set(counters.events)
        for kind, n in counters.anomalies().items():
            self.anomalies.labels(kind).set(n)
        signals = view.signals
        if signals is not None:  # issue 20
            ready = signals.volatility_ready
            self.volatility.set(signals.volatility_ticks if ready else float("nan"))
            for side, ratio in signals.cascade.items():
                self.cascade.labels(side.value).set(ratio)
        self.liquidations.set(counters.liquidations)
        for side, spread in (view.spreads or {}).items():
            self.half_spread.labels(side.value).set(spread.half_spread)
            self.pulled.labels(side.value).set(1 if spread.pulled else 0)
        costs = view.costs
        if costs is not None:
            self.fees.set(costs.fees)
            self.funding.set(costs.funding)
        self.updated.set(view.epoch(view.time) or unix_now())

    def _rate(self, total: int) -> float:
        now = monotonic_now()
        seen = self._requests_seen
        seen.append((now, total))
        while len(seen) > 1 and now - seen[0][0] > _RATE_WINDOW_S:
            seen.popleft()
        first_t, first_n = seen[0]
        return (total - first_n) / (now - first_t) if now > first_t else 0.0
