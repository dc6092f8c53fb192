"""What a maker is built from, so that it can be built again: the journal's replay (issue 17).

A ``MarketMaker`` is a pure function of its recipe and its inputs: the config (through
``MakerParams``), the instrument the venue described, whether it trades a live venue, the
venue's label and the cloid prefix (ids never repeat across sessions, D2).  The session builds
the live maker from a recipe and the journal writes the recipe down; replay builds the same
maker from what was written.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config
from core.maker.engine import MarketMaker
from core.maker.params import MakerParams
from core.units import Instrument


@dataclass(frozen=True, slots=True)
class MakerRecipe:
    config: Config
    instrument: Instrument
    live: bool
    venue: str
    cloid_prefix: int

    def build(self) -> MarketMaker:
        params = MakerParams.from_config(self.config, self.instrument, live=self.live)
        return MarketMaker(
            params, self.instrument, venue=self.venue, cloid_prefix=self.cloid_prefix
        )
