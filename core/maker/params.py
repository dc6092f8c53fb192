"""The maker's parameters, in core units (lots, ticks, seconds), and how they come from the
configuration.  The defaults of the retry pacing live here too (D29)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config
from core.pacing import RetryPacing
from core.recovery import RecoveryParams
from core.rejections import RejectionPolicy
from core.risk import RiskLimits
from core.spread import NO_SPREAD_POLICY, SpreadParams
from core.strategy import StrategyParams
from core.units import Instrument, Rounding

# The default pacing of retries (config: [emergency] and [reconcile], D29).
CANCEL_RETRY = RetryPacing(0.1, 2.0)
SWEEP_RETRY = RetryPacing(0.2, 2.0)
QUERY_RETRY = RetryPacing(0.25, 8.0)
# Status queries are one request each: a burst of ten, then five a second (D29).  Hyperliquid
# weighs an orderStatus 2 of 1200 a minute per IP: this stays under half of that budget.
QUERY_RATE_PER_S = 5.0
QUERY_BURST = 10


@dataclass(frozen=True, slots=True)
class MakerParams:
    """Everything the maker needs, in core units (lots, ticks, seconds)."""

    strategy: StrategyParams
    risk: RiskLimits
    rejection: RejectionPolicy
    recovery: RecoveryParams
    recovery_enabled: bool = True
    requote_threshold: int = 1
    min_requote_interval: float = 0.05
    grace_period: float = 2.0
    request_lifetime: float = 10.0
    sync_interval: float = 30.0
    position_tolerance: int = 0
    late_fill_window: float = 1.0
    terminal_retention: float = 60.0
    answer_timeout: float = 5.0  # a placement or cancel unanswered this long is queried (D8, D24)
    query_timeout: float = 5.0
    # D29: retries of what the venue refused or did not settle are paced, never at tick rate
    cancel_retry: RetryPacing = CANCEL_RETRY
    sweep_retry: RetryPacing = SWEEP_RETRY
    query_retry: RetryPacing = QUERY_RETRY
    fill_gap_wait: float = 1.0  # D33: fills the venue says happened may be this late
    settle_query_s: float = 30.0  # D38: a fill pending this long is asked about
    unknown_orders: str = "cancel"  # or "adopt"
    on_start: str = "cancel_all"  # or "adopt"
    leverage: int = 5
    live: bool = False
    verify_gap: float = 0.3
    sweep_timeout: float = 5.0
    sweep_attempts: int = 5
    cancel_escalation: int = 3
    price_fence_s: float = 2.0
    log_size: int = 500
    fills_shown: int = 200
    # The market signals (issue 20) and how they shape the quotes (``core.spread``).
    spread: SpreadParams = NO_SPREAD_POLICY
    volatility_tau_s: float = 60.0
    volatility_warmup: float = 10.0
    cascade_decay_s: float = 1.0
    cascade_baseline_s: float = 300.0

    @classmethod
    def from_config(cls, cfg: Config, instrument: Instrument, *, live: bool) -> MakerParams:
        lots = instrument.size_to_lots
        max_position = lots(cfg.risk.max_position, Rounding.DOWN)
        s = cfg.strategy
        size_lots = max(1, lots(s.size, Rounding.DOWN))
        skew_per_lot = float(s.skew_ticks_per_unit * instrument.lot_size)
        e = cfg.emergency
        return cls(
            strategy=StrategyParams(
                levels=s.levels,
                level_spacing_ticks=s.level_spacing_ticks,
                half_spread_ticks=s.half_spread_ticks,
                size_lots=size_lots,
                max_position_lots=max(1, max_position),
                size_step_lots=lots(s.size_step, Rounding.DOWN),
                skew_ticks_per_lot=skew_per_lot,
            ),
            risk=RiskLimits(
                max_position=max(1, max_position),
                max_notional=int(cfg.risk.max_notional / instrument.value_unit),
                loss_limit=int(cfg.risk.loss_limit / instrument.value_unit),
                stale_data_s=cfg.risk.stale_data_s,
                runaway_multiple=cfg.risk.runaway_multiple,
                kill_on_stale_data=cfg.risk.kill_on_stale_data,
                value_unit=float(instrument.value_unit),
            ),
            rejection=RejectionPolicy(
                backoff_base=cfg.backoff.base_s,
                backoff_factor=cfg.backoff.factor,
                backoff_cap=cfg.backoff.cap_s,
                price_error_threshold=cfg.backoff.price_error_threshold,
                position_hold=cfg.backoff.position_limit_hold_s,
            ),
            recovery=RecoveryParams(
                rejection_threshold=cfg.recovery.rejection_threshold,
                min_ioc_size=max(1, lots(cfg.recovery.min_ioc_size, Rounding.DOWN)),
                cooldown=cfg.recovery.cooldown_s,
                max_attempts=cfg.recovery.max_attempts,
                slippage_ticks=cfg.recovery.slippage_ticks,
            ),
            spread=SpreadParams(
                volatility_multiplier=cfg.signals.volatility_multiplier,
                cap_ticks=cfg.signals.half_spread_cap_ticks,
                cascade_enter=cfg.signals.cascade_enter,
                cascade_exit=cfg.signals.cascade_exit,
                cascade_hold_s=cfg.signals.cascade_hold_s,
                cascade_action=cfg.signals.cascade_action,
                cascade_widen=cfg.signals.cascade_widen,
            ),
            recovery_enabled=cfg.recovery.enabled,
            requote_threshold=s.requote_threshold_ticks,
            min_requote_interval=min(0.05, s.tick_interval_s / 2),
            grace_period=cfg.reconcile.grace_period_s,
            request_lifetime=cfg.reconcile.request_lifetime_s,
            sync_interval=cfg.reconcile.interval_s,
            position_tolerance=lots(cfg.reconcile.position_tolerance, Rounding.DOWN),
            late_fill_window=cfg.reconcile.late_fill_window_s,
            terminal_retention=cfg.reconcile.terminal_retention_s,
            answer_timeout=cfg.reconcile.cancel_timeout_s,
            query_timeout=cfg.reconcile.query_timeout_s,
            cancel_retry=RetryPacing(e.cancel_retry_base_s, e.cancel_retry_cap_s),
            sweep_retry=RetryPacing(e.sweep_retry_base_s, e.sweep_retry_cap_s),
            query_retry=RetryPacing(
                min(0.25, cfg.reconcile.query_retry_cap_s), cfg.reconcile.query_retry_cap_s
            ),
            fill_gap_wait=cfg.reconcile.fill_gap_wait_s,
            settle_query_s=cfg.reconcile.settle_query_s,
            unknown_orders=cfg.reconcile.unknown_orders,
            on_start=cfg.reconcile.on_start,
            # A market without leverage (Polymarket's outcome shares: 1) never scales quotes.
            leverage=min(cfg.market.leverage, instrument.max_leverage),
            live=live,
            verify_gap=e.verify_gap_s,
            sweep_timeout=e.sweep_timeout_s,
            sweep_attempts=e.sweep_attempts,
            cancel_escalation=e.escalate_after,
        )
