"""``mm-console --demo``: the embedded exchange set up to show what the console is for.

With the default config the fault plan is off, so the panes that matter most -- rejections
and their backoff countdowns, recovery, reconnects -- sit empty (issue 16).  The demo changes
only the embedded exchange and the limits, never a venue that trades money:

* the account starts with a position above the maker's limit (an earlier session's leftover,
  adopted at start-up, D19), so the maker quotes reduce-only to bring it back;
* half the placements of a multi-order batch come back "insufficient margin" (D7, D11): the
  reduce-only quotes keep failing, which arms the IOC recovery within seconds (D15), and the
  sides back off with a countdown (D12);
* a rate-limit storm at 15 s and 45 s (D11: every placement backs off, cancels still go, D13)
  and a dropped connection at 35 s, replayed and reconciled on reconnect (D4, D16);
* takers that excite each other, with liquidation-like bursts a few times a minute (issue 20):
  the signals line moves, and once the detector has its baseline a side run over is pulled
  with its reason ("cascade: intensity ...x baseline").

Everything is seeded (``sim.seed``, ``--seed``): the same demo twice is the same minute.
"""

from __future__ import annotations

from decimal import Decimal

from core.config import Config, ConfigError
from core.simconfig import FaultConfig

_LIMIT = Decimal("0.5")  # the maker's max position in the demo, base units
_LEFTOVER = Decimal("0.8")  # the position the account starts with: above the limit


def demo(config: Config) -> Config:
    """``config`` with the demo's exchange, limits and ladder (embedded exchange only)."""
    if config.venue.kind != "sim":
        raise ConfigError(
            "--demo", [f"runs on the embedded exchange only (venue.kind is {config.venue.kind!r})"]
        )
    sim = config.sim.model_copy(
        update={
            "faults": FaultConfig.profile("demo"),
            "start_position": _LEFTOVER,
            "flow": config.sim.flow.model_copy(
                update={
                    "taker_rate_per_s": 4.0,
                    "taker_max_size": Decimal("1"),
                    # Issue 20: self-exciting takers with liquidation-like shocks, so that
                    # the signals move and a side is pulled in a cascade, with its reason.
                    "cascade_branching": 0.6,
                    "cascade_rate_per_min": 3.0,
                    "cascade_shock_takers": 40.0,
                    "cascade_jump_bps": 10.0,
                }
            ),
        }
    )
    risk = config.risk.model_copy(update={"max_position": _LIMIT, "stale_data_s": 10.0})
    strategy = config.strategy.model_copy(
        update={
            "levels": 3,
            "size": Decimal("0.2"),
            "half_spread_ticks": 10,
            "level_spacing_ticks": 10,
        }
    )
    # Two reduce-only rejections in a row arm the recovery (three by default).
    recovery = config.recovery.model_copy(update={"rejection_threshold": 2})
    return config.model_copy(
        update={"sim": sim, "risk": risk, "strategy": strategy, "recovery": recovery}
    )
