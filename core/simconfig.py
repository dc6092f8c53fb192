"""Settings of the embedded exchange: the market, its synthetic order flow and its fault plan.

These models are the ``[sim]`` table of ``config.toml``: ``core.config`` embeds ``SimConfig``,
and the embedded exchange (``core.venues.sim``), the loopback twin and the swarm read it.  It
lives here, beside the config, not in the venue's package, so that the config -- which the maker
reads -- never depends on a venue.  Every field has a default that gives a lively but fair
market on the wall clock with faults off except a mild latency, and a constraint that turns a bad
value into a clear error naming the field.  Prices and sizes are ``Decimal`` in the instrument's
units (never binary floats, D20); rates and times are floats.  This module only describes; it
never runs anything.

``market`` chooses the kind of market: ``perp`` (a Hyperliquid-style perpetual, the default)
or ``binary`` (a Polymarket-style outcome token priced in (0, 1) pUSD: a venue tick that can
change, a minimum size in shares, taker-only fees ``C x rate x p x (1 - p)``, no leverage,
margin tiers or funding; trades settle after matching, D38; ``[sim.settlement]`` and
``[sim.heartbeat]`` say how).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.units import Instrument, UnitError, tiers_rise_and_fall

FaultProfile = Literal["instant", "calm", "adversarial", "demo"]
MarketKind = Literal["perp", "binary"]

# Polymarket's tick sizes (reference section 1); a binary market's ``tick`` is one of them.
BINARY_TICKS = tuple(Decimal(t) for t in ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001"))
# The fault knobs that only a binary market has (D39, D40, post-only mode): mean seconds
# between two of them, 0 off.
BINARY_FAULT_KNOBS = (
    "tick_change_every_s",
    "heartbeat_lapse_every_s",
    "post_only_mode_every_s",
)


class Delay(BaseModel):
    """A lognormal delay given by its median and 99th percentile, in seconds.

    ``median_s == p99_s`` is a constant delay; ``0, 0`` is no delay at all (unit tests)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    median_s: float = Field(ge=0, allow_inf_nan=False)
    p99_s: float = Field(ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _p99_not_below_median(self) -> Delay:
        if self.p99_s < self.median_s:
            raise ValueError(f"p99_s ({self.p99_s}) must be >= median_s ({self.median_s})")
        if self.median_s == 0 and self.p99_s != 0:
            raise ValueError("a delay with median_s = 0 must have p99_s = 0 (no delay)")
        return self

    @property
    def sigma(self) -> float:
        """The lognormal shape: p99 sits 2.326 standard deviations above the median."""
        if self.median_s == 0:
            return 0.0
        return math.log(self.p99_s / self.median_s) / 2.3263478740408408


class FlowConfig(BaseModel):
    """The synthetic market: a jump-diffusion fair price, other makers' ladder, Poisson takers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The other makers' requote cycle: fair moves, sizes change and swept levels refill on it.
    fair_step_s: float = Field(default=0.1, gt=0, allow_inf_nan=False)
    volatility_bps: float = Field(default=1.0, ge=0, allow_inf_nan=False)  # per sqrt(second)
    jump_rate_per_min: float = Field(default=0.5, ge=0, allow_inf_nan=False)
    jump_bps: float = Field(default=8.0, ge=0, allow_inf_nan=False)  # mean absolute jump
    spread_bps: float = Field(default=2.0, gt=0, allow_inf_nan=False)  # other makers' spread
    depth_levels: int = Field(default=20, ge=1, le=200)  # per side
    level_size: Decimal = Field(default=Decimal("2"), gt=0, allow_inf_nan=False)  # at the touch
    level_size_growth: float = Field(default=0.15, ge=0, allow_inf_nan=False)  # per level deeper
    refresh_rate_per_s: float = Field(default=5.0, ge=0, allow_inf_nan=False)  # size changes
    replenish_s: float = Field(default=0.3, ge=0, allow_inf_nan=False)  # refill after a sweep
    taker_rate_per_s: float = Field(default=3.0, ge=0, allow_inf_nan=False)
    taker_min_size: Decimal = Field(default=Decimal("0.02"), gt=0, allow_inf_nan=False)
    taker_tail_alpha: float = Field(default=1.3, gt=0, allow_inf_nan=False)  # Pareto shape
    taker_max_size: Decimal = Field(default=Decimal("30"), gt=0, allow_inf_nan=False)
    taker_max_slippage_bps: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    # Issue 20: cascades.  Takers excite their own side (a Hawkes process: each brings
    # ``cascade_branching`` more on average, forgotten over ``cascade_decay_s``), and
    # liquidation-like shocks (``cascade_rate_per_min``) bring ``cascade_shock_takers`` extra
    # takers on one side at once and move fair ``cascade_jump_bps`` their way; volatility
    # rises with the flow's heat.  All zero: the calm Poisson takers above.
    cascade_branching: float = Field(default=0.0, ge=0, lt=1, allow_inf_nan=False)
    cascade_decay_s: float = Field(default=2.0, gt=0, allow_inf_nan=False)
    cascade_rate_per_min: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    cascade_shock_takers: float = Field(default=20.0, ge=0, allow_inf_nan=False)
    cascade_jump_bps: float = Field(default=10.0, ge=0, allow_inf_nan=False)

    @classmethod
    def still(cls, **overrides: Any) -> FlowConfig:
        """A market that does not move by itself (no volatility, jumps, takers or size
        changes): the other makers' ladder just sits there, refilling what a scripted taker
        sweeps — for rule tests and scripted scenarios."""
        settings: dict[str, Any] = {
            "volatility_bps": 0.0,
            "jump_rate_per_min": 0.0,
            "taker_rate_per_s": 0.0,
            "refresh_rate_per_s": 0.0,
        }
        return cls.model_validate({**settings, **overrides})

    @model_validator(mode="after")
    def _taker_sizes_ordered(self) -> FlowConfig:
        if self.taker_max_size < self.taker_min_size:
            raise ValueError(
                f"taker_max_size ({self.taker_max_size}) must be >= taker_min_size "
                f"({self.taker_min_size})"
            )
        return self


class FundingConfig(BaseModel):
    """Funding on the simulated perp (D36): a payment every ``interval_s`` at a rate that
    drifts around ``mean_rate`` (per interval; Hyperliquid's baseline is 0.00125 % an hour)
    with ``volatility`` per step and ``persistence`` (0: independent, near 1: slow drift)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    interval_s: float = Field(default=3600.0, gt=0, allow_inf_nan=False)
    mean_rate: float = Field(default=0.0000125, ge=-0.04, le=0.04, allow_inf_nan=False)
    volatility: float = Field(default=0.00001, ge=0, le=0.04, allow_inf_nan=False)
    persistence: float = Field(default=0.9, ge=0, le=1, allow_inf_nan=False)


class SettlementConfig(BaseModel):
    """D38 on a binary market: each of our trades is MATCHED at once (a provisional fill) and
    settles ``delay_s`` later on average (each trade's delay drawn in 0.5..1.5 x, so trades
    settle out of order): CONFIRMED, or FAILED with ``fail_probability`` (the trade is void and
    reversed).  ``retrying_probability`` of the trades go through RETRYING first and take a
    delay more before they settle; ``repeat_probability`` of the final words come twice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delay_s: float = Field(default=2.0, gt=0, allow_inf_nan=False)
    fail_probability: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)
    retrying_probability: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)
    # The share of final words the stream says twice (one event per status change, the
    # reference says; a client must not reverse a FAILED twice), the repeat up to a delay later.
    repeat_probability: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)

    @model_validator(mode="after")
    def _probabilities_add_up(self) -> SettlementConfig:
        if self.fail_probability + self.retrying_probability > 1:
            raise ValueError(
                f"fail_probability ({self.fail_probability}) + retrying_probability "
                f"({self.retrying_probability}) must be <= 1"
            )
        return self


class HeartbeatConfig(BaseModel):
    """D40 on a binary market: the venue's dead-man switch.  The maker's heartbeats are
    implicit in the simulation (its connection sends them); they stop when the stream is down
    longer than ``window_s`` or when the fault plan makes them lapse
    (``faults.heartbeat_lapse_every_s``), and then the venue cancels every order of ours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    window_s: float = Field(default=10.0, gt=0, allow_inf_nan=False)


class FaultConfig(BaseModel):
    """The fault plan.  Each fault has a rate (probability per batch / per item, or events per
    minute) or a schedule (times in seconds after the exchange starts); 0 and () mean off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_latency: Delay = Delay(median_s=0.01, p99_s=0.04)  # our request -> the exchange
    answer_latency: Delay = Delay(median_s=0.01, p99_s=0.04)  # the exchange -> our answer
    stream_latency: Delay = Delay(median_s=0.005, p99_s=0.02)  # websocket, FIFO
    late_answer_rate: float = Field(default=0.0, ge=0, le=1)  # per batch: stream overtakes
    late_answer_delay: Delay = Delay(median_s=0.3, p99_s=1.5)
    stale_snapshot_rate: float = Field(default=0.0, ge=0, le=1)  # per SyncState
    stale_snapshot_lag_s: float = Field(default=1.5, gt=0, allow_inf_nan=False)
    disconnect_rate_per_min: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    disconnects_at: tuple[float, ...] = ()
    outage: Delay = Delay(median_s=1.0, p99_s=6.0)
    replay_fills: int = Field(default=50, ge=0)  # recent fills re-sent after (re)connect
    timeout_rate: float = Field(default=0.0, ge=0, le=1)  # per batch: executed, answer lost
    lost_request_rate: float = Field(default=0.0, ge=0, le=1)  # per batch: never executed
    request_timeout_s: float = Field(default=5.0, gt=0, allow_inf_nan=False)
    rate_limit_storm_rate_per_min: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    rate_limit_storms_at: tuple[float, ...] = ()
    rate_limit_storm_s: float = Field(default=3.0, gt=0, allow_inf_nan=False)
    mixed_reject_rate: float = Field(default=0.0, ge=0, le=1)  # per place in a multi-item batch
    # The adversary (issue 14): every answer shape Hyperliquid's protocol allows (D29-D35).
    # During a storm, the requests that are not placements get their 429s too (D29).
    storm_cancel_429_rate: float = Field(default=0.0, ge=0, le=1)  # per cancel item
    storm_query_429_rate: float = Field(default=0.0, ge=0, le=1)  # per QueryOrder
    storm_sync_429_rate: float = Field(default=0.0, ge=0, le=1)  # SyncState/FetchFills/listing
    venue_cancel_rate_per_min: float = Field(default=0.0, ge=0, allow_inf_nan=False)  # D31
    resting_reject_rate_per_min: float = Field(default=0.0, ge=0, allow_inf_nan=False)  # D31
    oid_only_news_rate: float = Field(default=0.0, ge=0, le=1)  # per placing batch (D32)
    fill_delay_rate: float = Field(default=0.0, ge=0, le=1)  # per stream fill (D33)
    fill_delay: Delay = Delay(median_s=1.0, p99_s=5.0)
    fill_loss_rate: float = Field(default=0.0, ge=0, le=1)  # per stream fill (D33)
    malformed_row_rate: float = Field(default=0.0, ge=0, le=1)  # per multi-row message (D34)
    altered_duplicate_rate: float = Field(default=0.0, ge=0, le=1)  # per stream fill (D35)
    altered_duplicate_delay: Delay = Delay(median_s=0.5, p99_s=3.0)
    unknown_status_rate: float = Field(default=0.0, ge=0, le=1)  # per status (D6, D35)
    duplicate_ack_rate: float = Field(default=0.0, ge=0, le=1)  # per batch answer (D4, D7)
    duplicate_ack_delay: Delay = Delay(median_s=0.2, p99_s=2.0)
    # Binary markets only (Polymarket, reference 8): the venue moves the tick (D39), our
    # heartbeats lapse so the venue cancels every order of ours (D40), or the venue turns to
    # post-only mode for ``post_only_mode_s`` (non-post-only placements refused).  Each is a
    # mean interval in seconds between two of them (exponential), 0 off.
    tick_change_every_s: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    heartbeat_lapse_every_s: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    heartbeat_lapse_s: float = Field(default=2.0, gt=0, allow_inf_nan=False)  # till re-armed
    post_only_mode_every_s: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    post_only_mode_s: float = Field(default=10.0, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _schedules_not_negative(self) -> FaultConfig:
        for name in ("disconnects_at", "rate_limit_storms_at"):
            bad = [t for t in getattr(self, name) if not t >= 0 or math.isinf(t)]
            if bad:
                raise ValueError(f"{name}: times must be finite and >= 0, got {bad}")
        return self

    @classmethod
    def profile(cls, name: FaultProfile, **overrides: Any) -> FaultConfig:
        """A named preset: ``instant`` (no latency, no faults: rule tests), ``calm`` (the default:
        mild latency only), ``adversarial`` (every fault on, for the swarm), ``demo`` (what
        ``mm-console --demo`` shows a newcomer within a minute: batches answered with margin
        rejections and their backoff, a rate-limit storm at 15 s, a reconnect at 35 s)."""
        presets: dict[str, dict[str, Any]] = {
            "instant": {
                "request_latency": _NO_DELAY,
                "answer_latency": _NO_DELAY,
                "stream_latency": _NO_DELAY,
            },
            "calm": {},
            "adversarial": {
                "request_latency": Delay(median_s=0.02, p99_s=0.2),
                "answer_latency": Delay(median_s=0.02, p99_s=0.3),
                "stream_latency": Delay(median_s=0.01, p99_s=0.1),
                "late_answer_rate": 0.05,
                "stale_snapshot_rate": 0.3,
                "disconnect_rate_per_min": 1.0,
                "timeout_rate": 0.02,
                "lost_request_rate": 0.01,
                "request_timeout_s": 3.0,
                "rate_limit_storm_rate_per_min": 1.0,
                "mixed_reject_rate": 0.05,
                "storm_cancel_429_rate": 0.3,
                "storm_query_429_rate": 0.3,
                "storm_sync_429_rate": 0.3,
                "venue_cancel_rate_per_min": 1.0,
                "resting_reject_rate_per_min": 0.5,
                "oid_only_news_rate": 0.05,
                "fill_delay_rate": 0.05,
                "fill_loss_rate": 0.02,
                "malformed_row_rate": 0.05,
                "altered_duplicate_rate": 0.02,
                "unknown_status_rate": 0.02,
                "duplicate_ack_rate": 0.05,
            },
            "demo": {
                "mixed_reject_rate": 0.7,
                "late_answer_rate": 0.05,
                "rate_limit_storms_at": (15.0, 45.0),
                "rate_limit_storm_s": 4.0,
                "disconnects_at": (35.0,),
                "outage": Delay(median_s=2.0, p99_s=2.0),
            },
        }
        if name not in presets:
            raise ValueError(f"unknown fault profile {name!r}; choose one of {sorted(presets)}")
        return cls.model_validate({**presets[name], **overrides})


_NO_DELAY = Delay(median_s=0.0, p99_s=0.0)


class SimConfig(BaseModel):
    """One simulated market and our account on it: a Hyperliquid-style perp (``market =
    "perp"``) or a Polymarket-style binary outcome token (``market = "binary"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    market: MarketKind = "perp"
    seed: int = Field(default=0, ge=0)
    symbol: str = Field(default="ETH", min_length=1)  # a binary market's default: "YES"
    asset_id: int = Field(default=0, ge=0)
    sz_decimals: int = Field(default=4, ge=0, le=6)
    # A binary market's default: 0.5 (pUSD per share).
    start_price: Decimal = Field(default=Decimal("3000"), gt=0, allow_inf_nan=False)
    min_notional: Decimal = Field(default=Decimal("10"), ge=0, allow_inf_nan=False)  # USD
    # USD, or pUSD on a binary market (what buys spend).
    collateral: Decimal = Field(default=Decimal("100000"), ge=0, allow_inf_nan=False)
    max_position: Decimal = Field(default=Decimal("20"), gt=0, allow_inf_nan=False)  # base units
    leverage: int = Field(default=10, ge=1)  # the account's leverage when the run starts
    leverage_cap: int = Field(default=25, ge=1)  # the most the exchange allows (D14)
    # The account's position when the run starts (base units, signed): what an earlier session
    # left behind, which start-up adopts (D19).
    start_position: Decimal = Field(default=Decimal("0"), allow_inf_nan=False)
    # The venue's margin table as the twin serves it in meta (issue 19): [[lower bound USD,
    # max leverage], ...], lowest bound first, leverage falling; empty: none.
    margin_tiers: tuple[tuple[Decimal, int], ...] = ()
    # Fees as a fraction of notional (D36): Hyperliquid's base tier by default; negative is a
    # rebate.
    maker_fee: Decimal = Field(default=Decimal("0.00015"), ge=-0.01, le=0.01, allow_inf_nan=False)
    taker_fee: Decimal = Field(default=Decimal("0.00045"), ge=-0.01, le=0.01, allow_inf_nan=False)
    funding: FundingConfig = FundingConfig()
    flow: FlowConfig = FlowConfig()
    # Binary markets only (Polymarket, reference section 1): the venue's tick (it may change
    # during the run, D39), the minimum order size in shares, and the taker fee rate of
    # ``fee = C x rate x p x (1 - p)`` (makers pay none).
    tick: Decimal = Field(default=Decimal("0.01"), gt=0, allow_inf_nan=False)
    min_size: Decimal = Field(default=Decimal("5"), gt=0, allow_inf_nan=False)
    taker_fee_rate: Decimal = Field(default=Decimal("0.04"), ge=0, le=1, allow_inf_nan=False)
    settlement: SettlementConfig = SettlementConfig()
    heartbeat: HeartbeatConfig = HeartbeatConfig()

    @field_validator("margin_tiers")
    @classmethod
    def _tiers_rise_and_fall(
        cls, tiers: tuple[tuple[Decimal, int], ...]
    ) -> tuple[tuple[Decimal, int], ...]:
        if not tiers_rise_and_fall(tiers):
            shown = [[str(b), lev] for b, lev in tiers]
            raise ValueError(
                "[lower bound USD, max leverage] pairs, bounds rising and leverage "
                f'falling, e.g. [["0", 25], ["500000", 10]]; got {shown}'
            )
        return tiers

    faults: FaultConfig = FaultConfig()

    @model_validator(mode="before")
    @classmethod
    def _binary_defaults(cls, data: Any) -> Any:
        """A binary market left without a symbol or start price trades "YES" from 0.5."""
        if isinstance(data, dict) and data.get("market") == "binary":
            data = {"symbol": "YES", "start_price": Decimal("0.5"), **data}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SimConfig:
        if self.market == "binary":
            return self._binary_consistent()
        binary_only = [
            f"{name} ({_shown(getattr(self, name))})"
            for name in _BINARY_ONLY
            if getattr(self, name) != SimConfig.model_fields[name].default
        ]
        binary_only += [
            f"faults.{knob} ({getattr(self.faults, knob)})"
            for knob in BINARY_FAULT_KNOBS
            if getattr(self.faults, knob)
        ]
        if binary_only:
            raise ValueError(
                f'{", ".join(binary_only)}: binary-market settings (market = "binary"), not '
                "used by a perp; leave them at their defaults (faults: 0)"
            )
        if self.leverage > self.leverage_cap:
            raise ValueError(
                f"leverage ({self.leverage}) must be <= leverage_cap ({self.leverage_cap}): the "
                "exchange would never have granted it"
            )
        tick = Decimal(1).scaleb(-max(0, 6 - self.sz_decimals))
        if self.start_price < 100 * tick:
            raise ValueError(
                f"start_price ({self.start_price}) must be at least 100 ticks ({100 * tick}) "
                "so that the other makers' ladder fits below it"
            )
        try:
            self.instrument()
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        if abs(self.start_position) > self.max_position:
            raise ValueError(
                f"start_position ({self.start_position}) must be within max_position "
                f"({self.max_position})"
            )
        self._sizes_on_lots(
            Decimal(1).scaleb(-self.sz_decimals),
            f"sz_decimals = {self.sz_decimals}",
            {"max_position": self.max_position},
        )
        return self

    def _binary_consistent(self) -> SimConfig:
        """A binary market: a Polymarket tick, a start price strictly inside (0, 1) on it, a
        position that is not short, and none of the perp's settings (each one set is named)."""
        perp_only = [
            name
            for name in _PERP_ONLY
            if getattr(self, name) != SimConfig.model_fields[name].default
        ]
        shown = ", ".join(f"{name} ({_shown(getattr(self, name))})" for name in perp_only)
        if self.funding != FundingConfig() and self.funding.enabled:
            shown = ", ".join(filter(None, (shown, "funding (set and enabled)")))
        if shown:
            raise ValueError(
                f"{shown}: perp settings, not used by a binary market (no leverage, margin, "
                "funding or notional minimum; fees are taker_fee_rate); leave them at their "
                "defaults"
            )
        if self.tick not in BINARY_TICKS:
            allowed = ", ".join(str(t) for t in BINARY_TICKS)
            raise ValueError(f"tick ({self.tick}) must be one of the venue's ticks: {allowed}")
        lowest, highest = self.tick, 1 - self.tick
        if not lowest <= self.start_price <= highest:
            raise ValueError(
                f"start_price ({self.start_price}) must be within [tick, 1 - tick] = "
                f"[{lowest}, {highest}] on a binary market"
            )
        if self.start_price % self.tick:
            raise ValueError(
                f"start_price ({self.start_price}) must be a multiple of tick ({self.tick})"
            )
        if self.start_position < 0:
            raise ValueError(
                f"start_position ({self.start_position}) must be >= 0 on a binary market: "
                "outcome shares cannot be sold short"
            )
        self._sizes_on_lots(Decimal("0.01"), "shares to 2 decimals", {"min_size": self.min_size})
        try:
            self.instrument()
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        return self

    def _sizes_on_lots(self, lot: Decimal, why: str, sizes: dict[str, Decimal]) -> None:
        """Every configured size is a whole number of lots."""
        sizes = {
            **sizes,
            "start_position": abs(self.start_position),
            "flow.level_size": self.flow.level_size,
            "flow.taker_min_size": self.flow.taker_min_size,
            "flow.taker_max_size": self.flow.taker_max_size,
        }
        for name, size in sizes.items():
            try:
                off_grid = size % lot != 0
            except InvalidOperation:  # e.g. 1e999: too large to be on any grid
                off_grid = True
            if off_grid:
                raise ValueError(f"{name} ({size}) is not a multiple of the lot size {lot} ({why})")

    def instrument(self) -> Instrument:
        """The instrument the exchange trades and the maker must use: Hyperliquid perp grids,
        or a Polymarket outcome token (``Instrument.polymarket``) on a binary market."""
        if self.market == "binary":
            return Instrument.polymarket(self.symbol, self.tick, self.min_size, self.asset_id)
        base = Instrument.hyperliquid_perp(
            self.symbol, self.sz_decimals, self.leverage_cap, self.asset_id
        )
        return Instrument(
            symbol=base.symbol,
            tick_size=base.tick_size,
            lot_size=base.lot_size,
            sz_decimals=base.sz_decimals,
            max_price_decimals=base.max_price_decimals,
            sig_figs=base.sig_figs,
            min_notional=self.min_notional,
            max_leverage=self.leverage_cap,
            asset_id=self.asset_id,
            margin_tiers=self.margin_tiers,
        )


# A binary market's settings a perp refuses unless left at their defaults.
_BINARY_ONLY = ("tick", "min_size", "taker_fee_rate", "settlement", "heartbeat")
# The perp's settings a binary market refuses unless left at their defaults.
_PERP_ONLY = (
    "sz_decimals",
    "min_notional",
    "max_position",
    "leverage",
    "leverage_cap",
    "margin_tiers",
    "maker_fee",
    "taker_fee",
)


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return str([[str(v) for v in row] if isinstance(row, tuple) else str(row) for row in value])
    return str(value)
