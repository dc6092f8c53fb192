"""The benchmark workload: one market-maker configuration and one synthetic market, shared by
every benchmark so that their figures describe the same work.

``mix_config`` tunes the embedded exchange so that what reaches ``MarketMaker.handle`` is about
70% market data (book deltas and public trades), 15% order updates and answers (acks, modify
acks, cancel acks, rejections, snapshots) and 15% of our own fills, instead of the default
config's mostly-requote mix: our ladder sits inside the other makers' spread with large
orders, so frequent small takers partly fill it (one fill each, no order update), the fair
price moves slowly (few modifies), and 429 storms plus mixed batch rejects make rejections
happen.  Risk limits are wide so that a long run never kills itself.  ``rate_scale``
multiplies the market's activity for the live benchmarks that need a given event rate.

``classify`` names the category of an event for the mix report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from core.config import Config
from core.events import BookDelta, BookSnapshot, Event, Fill, Trade
from core.simconfig import FaultConfig, FlowConfig

MARKET_DATA = "market data"
ORDER_UPDATES = "order updates"
FILLS = "fills"
CATEGORIES = (MARKET_DATA, ORDER_UPDATES, FILLS)
TARGET_MIX = {MARKET_DATA: 0.70, ORDER_UPDATES: 0.15, FILLS: 0.15}


def mix_config(seed: int = 11, *, rate_scale: float = 1.0, faults: bool = True) -> Config:
    """The benchmark's config: ~430 events per simulated second at ``rate_scale`` 1."""
    cfg = Config()
    flow = FlowConfig(
        fair_step_s=0.1 / rate_scale if rate_scale > 1 else 0.1,
        volatility_bps=1.0,
        taker_rate_per_s=85.0 * rate_scale,
        refresh_rate_per_s=120.0 * rate_scale,
        taker_max_size=Decimal("0.5"),
    )
    fault_config = (
        FaultConfig.profile(
            "calm",
            mixed_reject_rate=0.2,
            rate_limit_storm_rate_per_min=2.0,
            rate_limit_storm_s=1.0,
        )
        if faults
        else FaultConfig.profile("calm")
    )
    sim = cfg.sim.model_copy(
        update={"seed": seed, "max_position": Decimal("500"), "flow": flow, "faults": fault_config}
    )
    strategy = cfg.strategy.model_copy(
        update={
            "size": Decimal("2"),
            "levels": 3,
            "level_spacing_ticks": 10,
            "half_spread_ticks": 10,
            "skew_ticks_per_unit": Decimal("1"),
        }
    )
    risk = cfg.risk.model_copy(
        update={
            "max_position": Decimal("100"),
            "max_notional": Decimal("10000000"),
            "loss_limit": Decimal("10000000"),
        }
    )
    return cfg.model_copy(update={"sim": sim, "strategy": strategy, "risk": risk})


def requote_config(seed: int = 11) -> Config:
    """The default strategy in a faster market: the other makers requote every 30 ms (faster
    than our 100 ms tick) with more volatility and takers than the packaged config, so many
    touch changes make the maker re-price at once, in ``handle`` — which is what the
    reaction-latency benchmark measures (the mix config's wide orders rarely need it)."""
    cfg = Config()
    flow = FlowConfig(
        fair_step_s=0.03, volatility_bps=3.0, taker_rate_per_s=40.0, refresh_rate_per_s=40.0
    )
    sim = cfg.sim.model_copy(
        update={"seed": seed, "flow": flow, "faults": FaultConfig.profile("calm")}
    )
    return cfg.model_copy(update={"sim": sim})


def category(event: Event) -> str:
    if isinstance(event, BookDelta | BookSnapshot | Trade):
        return MARKET_DATA
    if isinstance(event, Fill):
        return FILLS
    return ORDER_UPDATES


def describe_mix(events: Iterable[Event]) -> tuple[dict[str, float], Counter[str], str]:
    """Shares per category, counts per event type, and one line saying both."""
    by_type: Counter[str] = Counter()
    by_cat: Counter[str] = Counter()
    for e in events:
        by_type[type(e).__name__] += 1
        by_cat[category(e)] += 1
    total = max(1, sum(by_cat.values()))
    shares = {c: by_cat[c] / total for c in CATEGORIES}
    rejects = sum(n for name, n in by_type.items() if "Rejected" in name)
    acks = sum(n for name, n in by_type.items() if name.endswith("Ack"))
    text = (
        f"{total:,} events: {100 * shares[MARKET_DATA]:.1f}% market data "
        f"({by_type['BookDelta']:,} book deltas, {by_type['Trade']:,} trades), "
        f"{100 * shares[ORDER_UPDATES]:.1f}% order updates and answers "
        f"({by_type['OrderUpdate']:,} updates, {acks:,} acks, {rejects:,} rejections), "
        f"{100 * shares[FILLS]:.1f}% fills ({by_type['Fill']:,})"
    )
    return shares, by_type, text
