"""``mm-console --demo`` (issue 16 item 10): what a newcomer can run to see the panes that
matter -- rejections with backoff countdowns, a recovery and a reconnect -- within the first
minute.  Checked in virtual time with the demo's own config and seed, as the console would run
it (only the clock differs).  The default seed (0) and most others show all of it; in a few
(1 and 18 of the first 20) the takers bring the leftover position back inside the limit before
the rejections can arm the recovery."""

from __future__ import annotations

import pytest

from core.clock import VirtualClock
from core.config import Config, ConfigError
from core.demo import demo
from core.events import Connected, Disconnected, Event
from core.harness.loop import SimLoop
from core.maker import MakerParams, MarketMaker
from core.recovery import RecoveryState
from core.venues.sim.exchange import SimExchange


def _first_minute(config: Config) -> dict[str, float]:
    exchange = SimExchange(config.sim)
    maker = MarketMaker(
        MakerParams.from_config(config, exchange.instrument, live=False), exchange.instrument
    )
    seen: dict[str, float] = {}

    def observe(event: Event, now: float) -> None:
        if isinstance(event, Disconnected):
            seen.setdefault("disconnected", now)
        if isinstance(event, Connected) and "disconnected" in seen:
            seen.setdefault("reconnected", now)

    loop = SimLoop(
        exchange,
        maker,
        VirtualClock(),
        tick_interval=config.strategy.tick_interval_s,
        observer=observe,
        record=False,
    )
    for batch in maker.start(0.0):
        exchange.submit(batch, 0.0)
    t = 0.0
    while t < 60.0:
        t += 0.25
        loop.run_until(t)
        view = maker.view(t)
        if view.recovery.state is not RecoveryState.IDLE:
            seen.setdefault("recovery", t)
        if any(b.remaining > 0 for b in view.backoff):
            seen.setdefault("backoff", t)
        if sum(view.rejection_counts.values()):
            seen.setdefault("rejection", t)
    return seen


@pytest.mark.parametrize("seed", [0, 2, 3, 4])
def test_the_demo_shows_rejections_backoff_a_recovery_and_a_reconnect_in_a_minute(
    seed: int,
) -> None:
    config = demo(Config.model_validate({"sim": {"seed": seed}}))
    seen = _first_minute(config)
    assert {"rejection", "backoff", "recovery", "disconnected", "reconnected"} <= set(seen), seen


def test_the_demo_never_touches_a_real_venue() -> None:
    with pytest.raises(ConfigError):
        demo(Config.model_validate({"venue": {"kind": "hyperliquid"}}))
