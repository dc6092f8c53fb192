"""A trading session: from a validated config to a venue, a maker and a runner.

The console and the headless command build their engine here, so both trade the same thing
the same way.  Nothing here trades or reads the clock beyond handing the wall clock over.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.clock import Clock, WallClock
from core.config import Config
from core.maker import MakerParams, MarketMaker
from core.runner import Runner
from core.venues.base import Venue
from core.venues.sim.venue import SimVenue


@dataclass(slots=True)
class Session:
    config: Config
    venue: Venue
    maker: MarketMaker
    runner: Runner
    clock: Clock


class SessionError(Exception):
    """The session cannot be built (e.g. a venue this build cannot reach)."""


def build_session(config: Config, *, seed: int | None = None, clock: Clock | None = None) -> Session:
    clock = clock if clock is not None else WallClock()
    if config.venue.kind != "sim":
        raise SessionError(
            f"venue.kind = {config.venue.kind!r} is not available in this build; "
            "use the embedded exchange (venue.kind = \"sim\")"
        )
    sim = config.sim if seed is None else config.sim.model_copy(update={"seed": seed})
    venue = SimVenue(sim, clock)
    instrument = venue.instrument
    params = MakerParams.from_config(config, instrument, live=False)
    # A fresh cloid prefix per process: ids never repeat across restarts (D2, D22).
    prefix = int.from_bytes(os.urandom(4), "big") if seed is None else (sim.seed & 0xFFFFFFFF)
    maker = MarketMaker(params, instrument, venue=f"sim ({sim.symbol})", cloid_prefix=prefix)
    runner = Runner(
        maker,
        venue,
        clock,
        tick_interval=config.strategy.tick_interval_s,
        publish_hz=config.ui.refresh_hz,
    )
    return Session(config, venue, maker, runner, clock)
