"""Swarm scenarios: one seed picks a fault mix, a market regime, a config and an operator script.

Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): a run with every fault switched on
at once explores less than many runs that each switch on a random subset, because faults mask
each other (a 429 storm hides the placement that a late answer would have raced).  So each seed
draws, from ``random.Random(seed)`` only:

* which faults are on and how hard (latencies, late answers, stale snapshots, disconnects with
  fill replay, timeouts that executed, lost requests, 429 storms, mixed batch rejects);
* the market regime (volatility, jumps, taker rate and size, the other makers' spread);
* perturbations of the maker's config (levels, sizes, limits, backoff, reconcile timers);
* an operator script (pause, resume, cancel-all, kill, re-arm at random times);
* and then, from a stream of its own (``random.Random(f"swarm:{seed}:adversary")``, so that
  every draw above is what it was before the adversary existed), which parts of the adversary
  are on and how hard (issue 14, D29-D35): 429s for cancels, queries and syncs in storms of
  their own (one often at an operator's kill), the venue cancelling or rejecting resting
  orders, news by oid only, fills held back, lost or repeated with other content, unreadable
  rows, unknown statuses, answers twice;
* and, from a stream of its own again (``random.Random(f"swarm:{seed}:polymarket")``), whether
  the seed trades a Polymarket-style binary market instead of the perp (``BINARY_SHARE`` of the
  seeds; issue 21): an outcome token on a venue tick, trades that settle after matching and
  may FAIL (D38), tick changes (D39), heartbeat lapses (D40), post-only mode, no fill replay
  after a reconnect -- with the maker's ladder and limits drawn for shares priced in (0, 1).
  The perp's draws are what they were: a binary seed only replaces its market and account.

Faults run for ``duration`` simulated seconds; then the plan ends and the maker gets ``settle``
seconds on a clean exchange to converge before the quiescence invariants are checked (D22).
The same seed always gives the same scenario, byte for byte.

Why one module of about 610 lines: every draw of a seed comes from this one place, in a fixed
order of streams, so that switching one part off (``without``) or adding a part (the account,
cascades, the binary market, each on a stream of its own) never moves another part's draws.

``without`` switches faults (or the operator script) of a seed off while every other draw stays
as it was: the same market, config, strengths of the faults left on and operator times.  That is
what shrinking a failing seed needs (``core.harness.swarm.shrink``): a smaller plan, same run.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from core.actions import Action, CancelAllOrders, Kill, Pause, Rearm, Resume
from core.config import Config
from core.simconfig import Delay, FaultConfig, FaultProfile, FlowConfig, SimConfig

FaultChoice = Literal["swarm", "instant", "calm", "adversarial"]
FAULT_CHOICES: tuple[FaultChoice, ...] = ("swarm", "instant", "calm", "adversarial")
OPERATOR = "operator"  # the operator script, as a part a failing seed may be shrunk without
# The fault knobs each swarm fault sets; dropping a fault puts them back to their defaults.
_BASE_KNOBS: dict[str, tuple[str, ...]] = {
    "latency": ("request_latency", "answer_latency", "stream_latency"),
    "late_answer": ("late_answer_rate",),
    "stale_snapshot": ("stale_snapshot_rate", "stale_snapshot_lag_s"),
    "disconnect": ("disconnect_rate_per_min", "disconnects_at", "replay_fills", "outage"),
    "timeout": ("timeout_rate",),
    "lost_request": ("lost_request_rate",),
    "rate_limit_storm": (
        "rate_limit_storm_rate_per_min",
        "rate_limit_storms_at",
        "rate_limit_storm_s",
    ),
    "mixed_reject": ("mixed_reject_rate",),
}
# The adversary's parts (drawn after the operator script, from their own stream).  The storm
# part also adds storms of its own to ``rate_limit_storms_at``, taken out again without it.
STORM_429 = "storm_429"
_ADVERSARY_KNOBS: dict[str, tuple[str, ...]] = {
    STORM_429: ("storm_cancel_429_rate", "storm_query_429_rate", "storm_sync_429_rate"),
    "venue_cancels": ("venue_cancel_rate_per_min",),
    "resting_rejected": ("resting_reject_rate_per_min",),
    "oid_only_news": ("oid_only_news_rate",),
    "fills_delayed": ("fill_delay_rate", "fill_delay"),
    "fills_lost": ("fill_loss_rate",),
    "malformed_rows": ("malformed_row_rate",),
    "altered_duplicates": ("altered_duplicate_rate",),
    "unknown_statuses": ("unknown_status_rate",),
    "duplicate_acks": ("duplicate_ack_rate",),
}
# The binary market's parts (issue 21), drawn from their own stream: the settings each sets
# (fault knobs, or ``settlement.*`` for the trade failures).
TRADE_FAILURES = "trade_failures"
_BINARY_KNOBS: dict[str, tuple[str, ...]] = {
    TRADE_FAILURES: (
        "settlement.fail_probability",
        "settlement.retrying_probability",
        "settlement.repeat_probability",
    ),
    "tick_changes": ("tick_change_every_s",),
    "heartbeat_lapses": ("heartbeat_lapse_every_s", "heartbeat_lapse_s"),
    "post_only_mode": ("post_only_mode_every_s", "post_only_mode_s"),
    "no_replay": ("replay_fills",),
}
# The share of seeds that trade a binary market (0: every seed a perp, as before issue 21);
# ``DRAWN_SHARE`` is the share the swarm draws (tests draw at it whatever this is).
DRAWN_SHARE = 0.25
BINARY_SHARE = DRAWN_SHARE
_KNOBS = {**_BASE_KNOBS, **_ADVERSARY_KNOBS, **_BINARY_KNOBS}
# In the order they are drawn: the base fault mix, the operator script, the adversary.
# After the periodic sync that shows a drift: a second look (at least a second later, D16),
# the fetch of the fills since the position last agreed (D33), and their round trips.
FOUND_BY_SYNC_S = 15.0
SHRINKABLE: tuple[str, ...] = (*_BASE_KNOBS, OPERATOR, *_ADVERSARY_KNOBS, *_BINARY_KNOBS)
_RATES = ("_rate", "_per_min")  # the knobs that switch a part on
_ADVERSARY_ODDS = 0.4  # each part of the adversary is on for this share of the seeds
_QUICK_REQUESTS = Delay(median_s=0.01, p99_s=0.04)  # request latency when "latency" is off


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything one seeded run needs; ``describe()`` says it in one line per part."""

    seed: int
    duration: float  # seconds with the fault plan on
    settle: float  # seconds of clean exchange afterwards, before quiescence is judged
    config: Config
    faults_on: tuple[str, ...]  # the fault knobs this seed switched on (swarm testing)
    actions: tuple[tuple[float, Action], ...]  # operator script, times in seconds
    without: tuple[str, ...] = ()  # what was switched off of the seed's own draw

    @property
    def binary(self) -> bool:
        """Whether the seed trades a binary (Polymarket-style) market."""
        return self.config.sim.market == "binary"

    @property
    def parts(self) -> tuple[str, ...]:
        """What a shrink may switch off: the faults on, and the operator script if any."""
        return (*(f for f in self.faults_on if f in _KNOBS), *((OPERATOR,) if self.actions else ()))

    def describe(self) -> list[str]:
        s = self.config.strategy
        r = self.config.risk
        f = self.config.sim.flow
        sim = self.config.sim
        sig = self.config.signals
        script = ", ".join(f"{t:.1f}s {type(a).__name__}" for t, a in self.actions) or "none"
        return [
            f"seed {self.seed}: {self.duration:g}s of faults, then {self.settle:g}s to settle",
            f"faults: {', '.join(self.faults_on) or 'none'}",
            f"market: vol {f.volatility_bps}bps, jumps {f.jump_rate_per_min}/min x "
            f"{f.jump_bps}bps, takers {f.taker_rate_per_s}/s up to {f.taker_max_size}"
            + (
                f", cascades (branching {f.cascade_branching}, {f.cascade_rate_per_min}/min "
                f"shocks of {f.cascade_shock_takers:g} takers)"
                if f.cascade_branching or f.cascade_rate_per_min
                else ""
            ),
            f"maker: {s.levels} levels x {s.size}, spread {s.half_spread_ticks}t, "
            f"max position {r.max_position}, backoff {self.config.backoff.base_s}s.."
            f"{self.config.backoff.cap_s}s, sync every {self.config.reconcile.interval_s}s",
            f"operator: {script}",
            f"adversary: {_describe_adversary(self.config.sim.faults)}",
            f"account: collateral {sim.collateral} pUSD, {sim.start_position} shares held"
            if self.binary
            else f"account: fees {sim.maker_fee}/{sim.taker_fee}, funding every "
            f"{sim.funding.interval_s:g}s at {sim.funding.mean_rate:g}, "
            f"collateral {sim.collateral}",
            f"signals: vol x{sig.volatility_multiplier:g}, cascade {sig.cascade_action} at "
            f"{sig.cascade_enter:g}x",
            *([_describe_binary(sim)] if self.binary else []),
            *([f"switched off: {', '.join(self.without)}"] if self.without else []),
        ]


def build(
    seed: int,
    duration: float = 120.0,
    faults: FaultChoice = "swarm",
    settle: float = 30.0,
    without: Iterable[str] = (),
    binary_share: float | None = None,
) -> Scenario:
    """The scenario of ``seed``.  ``faults="swarm"`` draws a fault mix; a profile name uses that
    preset for every seed (the market, config and operator script are still drawn).  The parts
    named in ``without`` (``SHRINKABLE``) are switched off; nothing else changes.
    ``binary_share`` of the seeds trade a binary market (``_binary``; None: ``BINARY_SHARE``
    as it is when called)."""
    if faults not in FAULT_CHOICES:
        raise ValueError(f"unknown fault choice {faults!r}; choose one of {FAULT_CHOICES}")
    off = tuple(sorted(set(without)))
    unknown = [part for part in off if part not in SHRINKABLE]
    if unknown:
        raise ValueError(f"cannot switch off {unknown}; choose from {SHRINKABLE}")
    rng = random.Random(f"swarm:{seed}")
    knobs: dict[str, Any] = {}
    on: tuple[str, ...] = ()
    if faults == "swarm":
        knobs, on = _fault_mix(rng, duration, off)
    flow = _regime(rng)
    flow = flow.model_copy(update=_cascades(random.Random(f"swarm:{seed}:cascades")))
    data = _maker_config(rng)
    data["signals"] = _signals(random.Random(f"swarm:{seed}:signals"))
    script = _script(rng, duration)  # always drawn, so switching it off shifts no draw
    if faults == "swarm":
        adversary = random.Random(f"swarm:{seed}:adversary")
        on += _adversary(adversary, duration, script, knobs, off)
        fault_config = FaultConfig.model_validate(knobs)
    else:
        profile: FaultProfile = faults
        fault_config, on = FaultConfig.profile(profile), (f"profile {faults}",)
    account = _account(random.Random(f"swarm:{seed}:account"))
    polymarket = random.Random(f"swarm:{seed}:polymarket")
    share = BINARY_SHARE if binary_share is None else binary_share
    if polymarket.random() < share:
        fault_data = fault_config.model_dump()
        sim, parts = _binary(polymarket, flow, fault_data, data, off, faults == "swarm")
        data["sim"] = {"seed": seed, "faults": fault_data, **sim}
        on += parts
    else:
        if "collateral" in account:
            data["market"] = {"leverage": THIN_LEVERAGE}
        data["sim"] = {
            "seed": seed,
            "flow": flow.model_dump(),
            "faults": fault_config.model_dump(),
            **account,
        }
    config = Config.model_validate(data)
    actions = () if OPERATOR in off else script
    if config.sim.faults.fill_loss_rate > 0:
        # A fill lost on the wire with nothing else to reveal it (a part of a resting order)
        # is found by the maker's next periodic sync and a second look: the settle phase
        # leaves room for both, or quiescence would be judged before the maker could know.
        settle = max(settle, config.reconcile.interval_s + FOUND_BY_SYNC_S)
    return Scenario(seed, duration, settle, config, on, actions, off)


def _fault_mix(
    rng: random.Random, duration: float, off: tuple[str, ...] = ()
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Each fault on with probability one half, at a drawn strength; the faults in ``off`` are
    drawn too (so every later draw is the same) and then switched off.  Returns the knobs."""
    knobs: dict[str, Any] = {}
    on: list[str] = []

    def maybe(name: str) -> bool:
        hit = rng.random() < 0.5
        if hit:
            on.append(name)
        return hit

    if maybe("latency"):
        median = rng.choice((0.005, 0.02, 0.05, 0.15))
        for key in ("request_latency", "answer_latency", "stream_latency"):
            knobs[key] = Delay(median_s=median, p99_s=median * rng.choice((1.5, 4.0, 10.0)))
    else:
        knobs["request_latency"] = _QUICK_REQUESTS
    if maybe("late_answer"):
        knobs["late_answer_rate"] = rng.choice((0.02, 0.1, 0.3))
    if maybe("stale_snapshot"):
        knobs["stale_snapshot_rate"] = rng.choice((0.3, 0.8, 1.0))
        knobs["stale_snapshot_lag_s"] = rng.choice((0.5, 1.5, 4.0))
    if maybe("disconnect"):
        knobs["disconnect_rate_per_min"] = rng.choice((0.5, 2.0, 6.0))
        knobs["disconnects_at"] = (round(rng.uniform(5.0, duration), 3),)
        knobs["replay_fills"] = rng.choice((50, 200))
        median = rng.choice((0.5, 2.0))
        knobs["outage"] = Delay(median_s=median, p99_s=median * rng.choice((1.0, 5.0)))
    if maybe("timeout"):
        knobs["timeout_rate"] = rng.choice((0.01, 0.05, 0.15))
    if maybe("lost_request"):
        knobs["lost_request_rate"] = rng.choice((0.01, 0.05, 0.15))
    if "timeout" in on or "lost_request" in on:
        knobs["request_timeout_s"] = rng.choice((1.0, 3.0, 5.0))
    if maybe("rate_limit_storm"):
        knobs["rate_limit_storm_rate_per_min"] = rng.choice((1.0, 4.0))
        knobs["rate_limit_storms_at"] = (round(rng.uniform(2.0, duration), 3),)
        knobs["rate_limit_storm_s"] = rng.choice((1.0, 3.0, 8.0))
    if maybe("mixed_reject"):
        knobs["mixed_reject_rate"] = rng.choice((0.05, 0.3, 0.7))
    for name in off:
        for key in _BASE_KNOBS.get(name, ()):
            knobs.pop(key, None)
    if "latency" in off:
        knobs["request_latency"] = _QUICK_REQUESTS
    if not {"timeout", "lost_request"} & (set(on) - set(off)):
        knobs.pop("request_timeout_s", None)
    return knobs, tuple(name for name in on if name not in off)


def _adversary(
    rng: random.Random,
    duration: float,
    script: tuple[tuple[float, Action], ...],
    knobs: dict[str, Any],
    off: tuple[str, ...],
) -> tuple[str, ...]:
    """The adversary's parts (issue 14, D29-D35), each on with probability ``_ADVERSARY_ODDS``
    at a drawn strength, set into ``knobs``; returns the parts on.  Like the base mix, parts in
    ``off`` are drawn and then left out.  The 429 part brings storms of its own (so there is
    one to answer in), one of them just before an operator's kill when the script has one: a
    kill during a rate-limit storm must not deepen it and must empty the venue once it lifts
    (D29).  Its storms are drawn even when the operator is switched off, so that switching the
    operator off changes nothing else."""
    drawn: dict[str, Any] = {}
    storms: list[float] = []
    on: list[str] = []

    def maybe(name: str) -> bool:
        hit = rng.random() < _ADVERSARY_ODDS
        if hit:
            on.append(name)
        return hit

    if maybe(STORM_429):
        for key in _ADVERSARY_KNOBS[STORM_429]:
            drawn[key] = rng.choice((0.3, 0.7, 1.0))
        storms = [round(rng.uniform(2.0, duration), 3) for _ in range(rng.randint(1, 3))]
        kills = [t for t, action in script if isinstance(action, Kill)]
        if kills:
            storms.append(round(max(0.0, rng.choice(kills) - rng.uniform(0.0, 1.0)), 3))
    if maybe("venue_cancels"):
        drawn["venue_cancel_rate_per_min"] = rng.choice((0.5, 2.0, 6.0))
    if maybe("resting_rejected"):
        drawn["resting_reject_rate_per_min"] = rng.choice((0.5, 2.0, 6.0))
    if maybe("oid_only_news"):
        drawn["oid_only_news_rate"] = rng.choice((0.02, 0.1, 0.3))
    if maybe("fills_delayed"):
        drawn["fill_delay_rate"] = rng.choice((0.05, 0.2, 0.5))
        median = rng.choice((0.2, 1.0, 3.0))
        drawn["fill_delay"] = Delay(median_s=median, p99_s=median * rng.choice((2.0, 5.0)))
    if maybe("fills_lost"):
        drawn["fill_loss_rate"] = rng.choice((0.01, 0.05, 0.2))
    if maybe("malformed_rows"):
        drawn["malformed_row_rate"] = rng.choice((0.02, 0.1, 0.3))
    if maybe("altered_duplicates"):
        drawn["altered_duplicate_rate"] = rng.choice((0.01, 0.05, 0.2))
    if maybe("unknown_statuses"):
        drawn["unknown_status_rate"] = rng.choice((0.01, 0.05, 0.2))
    if maybe("duplicate_acks"):
        drawn["duplicate_ack_rate"] = rng.choice((0.02, 0.1, 0.3))
    kept = tuple(name for name in on if name not in off)
    for name in kept:
        for key in _ADVERSARY_KNOBS[name]:
            knobs[key] = drawn[key]
    if STORM_429 in kept:
        knobs["rate_limit_storms_at"] = tuple(
            sorted((*knobs.get("rate_limit_storms_at", ()), *storms))
        )
    return kept


def _describe_adversary(faults: FaultConfig) -> str:
    """The adversary's parts that are on (a rate above zero: drawn, or a profile's), with
    their strengths, in one line."""
    said: list[str] = []
    for name, knobs in _ADVERSARY_KNOBS.items():
        if not any(getattr(faults, knob) for knob in knobs if knob.endswith(_RATES)):
            continue
        if name == STORM_429:
            storms = ", ".join(f"{t:g}s" for t in faults.rate_limit_storms_at) or "none"
            said.append(
                f"{name} (cancel {faults.storm_cancel_429_rate:g}, query "
                f"{faults.storm_query_429_rate:g}, sync {faults.storm_sync_429_rate:g}; "
                f"storms at {storms}, {faults.rate_limit_storm_rate_per_min:g}/min)"
            )
        elif name == "fills_delayed":
            delay = faults.fill_delay
            said.append(
                f"{name} {faults.fill_delay_rate:g} ({delay.median_s:g}s..{delay.p99_s:g}s)"
            )
        else:
            (knob,) = knobs
            unit = "/min" if knob.endswith("per_min") else ""
            said.append(f"{name} {getattr(faults, knob):g}{unit}")
    return ", ".join(said) or "none"


def _binary(
    rng: random.Random,
    flow: FlowConfig,
    faults: dict[str, Any],
    data: dict[str, Any],
    off: tuple[str, ...],
    draw_faults: bool,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A Polymarket-style binary market for this seed (issue 21), from its own stream: the
    outcome token (tick, start price, fee rate, collateral, shares held), its flow (moves of
    the log-odds, other makers' sizes in shares; the seed's cascades kept), settlement (D38),
    and -- with the fault mix drawn (``draw_faults``) -- its parts, each on with probability
    one half: trade failures (D38), tick changes (D39), heartbeat lapses (D40), post-only mode
    and no fill replay after a reconnect (Polymarket replays nothing).  The maker's ladder and
    limits are redrawn in shares and ticks of 0.0001 pUSD; ``faults`` (the seed's knobs) and
    ``data`` (the maker's config) are changed in place.  Returns the ``[sim]`` settings and the
    parts on; those in ``off`` are drawn and then left out, like every other part."""
    tick = rng.choice(("0.01", "0.01", "0.001", "0.005", "0.1"))
    starts = [p for p in ("0.5", "0.3", "0.8", "0.05", "0.97") if _on_tick(p, tick)]
    sim: dict[str, Any] = {
        "market": "binary",
        "symbol": "YES",
        "tick": tick,
        "start_price": rng.choice(starts),
        "taker_fee_rate": rng.choice(("0.04", "0.07", "0")),
        "collateral": rng.choice(("100", "1000", "100000")),
        "start_position": rng.choice(("0", "0", "10")),
    }
    sim["flow"] = flow.model_copy(
        update={
            "volatility_bps": rng.choice((0.0, 30.0, 150.0, 500.0)),
            "jump_rate_per_min": rng.choice((0.0, 1.0, 5.0)),
            "jump_bps": rng.choice((200.0, 1000.0)),
            "spread_bps": rng.choice((20.0, 100.0, 400.0)),
            "taker_rate_per_s": rng.choice((1.0, 3.0, 8.0)),
            "level_size": Decimal(rng.choice(("5", "20"))),
            "taker_min_size": Decimal(rng.choice(("1", "5"))),
            "taker_max_size": Decimal(rng.choice(("50", "300"))),
        }
    ).model_dump()
    drawn = {
        "settlement.fail_probability": rng.choice((0.05, 0.3)),
        "settlement.retrying_probability": rng.choice((0.0, 0.2)),
        "settlement.repeat_probability": rng.choice((0.0, 0.3)),
        "tick_change_every_s": rng.choice((15.0, 45.0)),
        "heartbeat_lapse_every_s": rng.choice((20.0, 60.0)),
        "heartbeat_lapse_s": rng.choice((1.0, 5.0)),
        "post_only_mode_every_s": rng.choice((20.0, 60.0)),
        "post_only_mode_s": rng.choice((5.0, 20.0)),
        "replay_fills": 0,
    }
    hits = {name: rng.random() < 0.5 for name in _BINARY_KNOBS}
    settlement: dict[str, Any] = {"delay_s": rng.choice((0.5, 2.0, 6.0))}
    on = [name for name, hit in hits.items() if hit and draw_faults and name not in off]
    for name in on:
        for key in _BINARY_KNOBS[name]:
            if key.startswith("settlement."):
                settlement[key.removeprefix("settlement.")] = drawn[key]
            else:
                faults[key] = drawn[key]
    sim["settlement"] = settlement
    size = rng.choice(("5", "10", "25"))
    data["market"] = {"symbol": "YES"}
    data["strategy"].update(
        {
            "levels": rng.randint(1, 4),
            "level_spacing_ticks": rng.choice((50, 100, 300)),
            "half_spread_ticks": rng.choice((50, 100, 200, 500)),
            "size": size,
            "size_step": rng.choice(("0", size)),
            "skew_ticks_per_unit": rng.choice(("0", "1", "10")),
            "requote_threshold_ticks": rng.choice((0, 50, 100)),
        }
    )
    data["risk"].update(
        {
            "max_position": rng.choice(("20", "100", "500")),  # >= the shares held at start
            "max_notional": rng.choice(("50", "500", "100000")),
            "loss_limit": rng.choice(("5", "50", "100000")),
        }
    )
    return sim, tuple(on)


def _on_tick(price: str, tick: str) -> bool:
    p, t = Decimal(price), Decimal(tick)
    return t <= p <= 1 - t and p % t == 0


def _describe_binary(sim: SimConfig) -> str:
    f = sim.faults
    s = sim.settlement
    parts = [
        f"binary {sim.symbol} from {sim.start_price} on tick {sim.tick}",
        f"taker fee rate {sim.taker_fee_rate}",
        f"settles in ~{s.delay_s:g}s (fail {s.fail_probability:g}, retry "
        f"{s.retrying_probability:g}, repeat {s.repeat_probability:g})",
    ]
    for knob in ("tick_change_every_s", "heartbeat_lapse_every_s", "post_only_mode_every_s"):
        if getattr(f, knob):
            parts.append(f"{knob.removesuffix('_every_s')} every ~{getattr(f, knob):g}s")
    if not f.replay_fills:
        parts.append("no fill replay")
    return "polymarket: " + ", ".join(parts)


THIN_ODDS = 0.2  # of the seeds, the share with a thin account that funding bleeds (D41)
THIN_LEVERAGE = 20


def _account(rng: random.Random) -> dict[str, Any]:
    """What the account pays (D36), from its own stream so that no other draw moves: fee
    tiers from a maker rebate to a punishing taker rate, and funding paid every few seconds
    at rates up to the venue's cap (an hour's worth of payments in one run) or hourly."""
    maker, taker = rng.choice(
        (("0.00015", "0.00045"), ("0", "0"), ("-0.00002", "0.0003"), ("0.001", "0.003"))
    )
    interval = rng.choice((3600.0, 5.0, 20.0))
    account: dict[str, Any] = {
        "maker_fee": maker,
        "taker_fee": taker,
        "funding": {
            "interval_s": interval,
            "mean_rate": rng.choice((0.0000125, -0.0005, 0.002)),
            "volatility": rng.choice((0.0, 0.0001, 0.01)),
        },
    }
    if rng.random() < THIN_ODDS:
        # D41: a thin account at high leverage bled by funding every few seconds, so that
        # the exchange liquidates it (at maintenance margin) while the maker runs.
        account["collateral"] = rng.choice(("300", "1000", "3000"))
        account["funding"] = {
            "interval_s": 5.0,
            "mean_rate": rng.choice((0.01, -0.01)),
            "volatility": 0.005,
        }
    return account


def _cascades(rng: random.Random) -> dict[str, Any]:
    """Issue 20: in half of the seeds, self-exciting takers and liquidation-like shocks (from
    a stream of their own, so no other draw moves)."""
    if rng.random() < 0.5:
        return {}
    return {
        "cascade_branching": rng.choice((0.3, 0.6, 0.85)),
        "cascade_decay_s": rng.choice((1.0, 3.0)),
        "cascade_rate_per_min": rng.choice((0.5, 2.0, 6.0)),
        "cascade_shock_takers": rng.choice((10.0, 40.0)),
        "cascade_jump_bps": rng.choice((5.0, 30.0)),
    }


def _signals(rng: random.Random) -> dict[str, Any]:
    """How the maker's quotes read the signals: off, mild or eager, pulling or widening."""
    enter = rng.choice((0.0, 2.5, 4.0))
    return {
        "volatility_multiplier": rng.choice((0.0, 0.5, 2.0)),
        "half_spread_cap_ticks": rng.choice((100, 500)),
        "cascade_enter": enter,
        "cascade_exit": enter / 2 if enter else 1.5,
        "cascade_hold_s": rng.choice((1.0, 5.0)),
        "cascade_action": rng.choice(("pull", "widen")),
        "cascade_widen": rng.choice((1.5, 3.0)),
    }


def _regime(rng: random.Random) -> FlowConfig:
    return FlowConfig(
        volatility_bps=rng.choice((0.0, 0.5, 1.0, 3.0, 8.0)),
        jump_rate_per_min=rng.choice((0.0, 0.5, 3.0)),
        jump_bps=rng.choice((5.0, 20.0, 60.0)),
        spread_bps=rng.choice((1.0, 2.0, 5.0)),
        taker_rate_per_s=rng.choice((0.5, 3.0, 10.0)),
        taker_max_size=Decimal(rng.choice(("5", "30"))),
        refresh_rate_per_s=rng.choice((1.0, 5.0, 20.0)),
    )


def _maker_config(rng: random.Random) -> dict[str, Any]:
    """Perturbed maker settings, as the ``config.toml`` tables they come from."""
    size = rng.choice(("0.01", "0.1", "0.5", "2"))
    return {
        "strategy": {
            "levels": rng.randint(1, 5),
            "level_spacing_ticks": rng.choice((1, 5, 20)),
            "half_spread_ticks": rng.choice((1, 5, 30, 100)),
            "size": size,
            "size_step": rng.choice(("0", size)),
            "skew_ticks_per_unit": rng.choice(("0", "10", "100")),
            "requote_threshold_ticks": rng.choice((0, 1, 5)),
            "tick_interval_s": rng.choice((0.05, 0.1, 0.25)),
        },
        "risk": {
            "max_position": rng.choice(("0.5", "2", "5", "15")),
            "max_notional": rng.choice(("5000", "20000", "1000000")),
            "loss_limit": rng.choice(("50", "500", "1000000")),
            "stale_data_s": rng.choice((3.0, 5.0, 10.0)),
            "kill_on_stale_data": rng.random() < 0.5,
        },
        "backoff": {
            "base_s": rng.choice((0.1, 1.0, 3.0)),
            "factor": rng.choice((1.0, 2.0)),
            "cap_s": rng.choice((3.0, 10.0, 60.0)),
            "price_error_threshold": rng.choice((1, 3)),
            "position_limit_hold_s": rng.choice((1.0, 30.0)),
        },
        "reconcile": {
            "interval_s": rng.choice((2.0, 10.0, 30.0)),
            "grace_period_s": rng.choice((0.5, 2.0)),
            "late_fill_window_s": rng.choice((0.2, 1.0)),
            "unknown_orders": rng.choice(("cancel", "cancel", "adopt")),
            "on_start": rng.choice(("cancel_all", "adopt")),
            "cancel_timeout_s": rng.choice((1.0, 5.0)),
            "query_timeout_s": rng.choice((1.0, 5.0)),
            "terminal_retention_s": rng.choice((10.0, 60.0)),
        },
    }


def _script(rng: random.Random, duration: float) -> tuple[tuple[float, Action], ...]:
    """Half the seeds have an operator: a few actions at random times during the fault plan."""
    if rng.random() < 0.5:
        return ()
    script: list[tuple[float, Action]] = []
    for _ in range(rng.randint(1, 4)):
        t = round(rng.uniform(1.0, duration), 3)
        kind = rng.choice(("pause", "pause_cancel", "cancel_all", "kill"))
        if kind == "kill":
            script.append((t, Kill("swarm operator")))
            if rng.random() < 0.7:
                script.append((round(min(duration, t + rng.uniform(0.5, 20.0)), 3), Rearm()))
        elif kind == "cancel_all":
            script.append((t, CancelAllOrders("swarm operator")))
        else:
            script.append((t, Pause(cancel_orders=kind == "pause_cancel")))
            if rng.random() < 0.8:
                script.append((round(min(duration, t + rng.uniform(0.5, 20.0)), 3), Resume()))
    script.sort(key=lambda item: item[0])
    return tuple(script)
