"""How wide to quote, from the market's signals (issue 20): volatility widens both sides, a
cascade widens or pulls the side being run over.

A fixed half-spread is the calm market's.  When the mid moves more per second than the
configured half-spread, a quote that close is picked off; so each side's half-spread is
``max(configured, min(cap, round(multiplier x sigma)))`` with sigma one standard deviation of
the mid over a second in ticks (``core.estimators.volatility``), once it is warmed up.

A cascade is one-sided: sellers hitting bids run over our bids, buyers lifting asks our asks.
When the aggressors' intensity reaches ``cascade_enter`` times its slow baseline
(``core.estimators.hawkes``) the side they run over is in a cascade: it is pulled (every quote
cancelled, D13: cancels never wait) or widened by ``cascade_widen``, with the reason shown
(D27: "cascade: intensity 4.2x baseline").  It leaves the cascade only below ``cascade_exit``
and after ``cascade_hold_s`` in it (hysteresis), so a ratio hovering at the threshold does not
flap the quotes in and out.

The ladder this feeds still clamps every quote behind the touch (D23) and inside the
position and tier limits (D17): a wider spread only ever moves quotes away from the touch.
``SpreadPolicy.update`` is the only state change, called from the maker's handle and tick path
(never from a view, so a replayed journal decides the same); ``sides`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.events import Side

_RUN_OVER_BY = {Side.BID: Side.ASK, Side.ASK: Side.BID}  # our side -> the aggressors' side


@dataclass(frozen=True, slots=True)
class SpreadParams:
    """``volatility_multiplier`` 0 turns the volatility widening off; ``cascade_enter`` 0
    the cascade response.  ``cascade_action`` is "pull" or "widen"."""

    volatility_multiplier: float = 0.0
    cap_ticks: int = 0
    cascade_enter: float = 0.0
    cascade_exit: float = 0.0
    cascade_hold_s: float = 0.0
    cascade_action: str = "pull"
    cascade_widen: float = 2.0

    def __post_init__(self) -> None:
        if self.cascade_action not in ("pull", "widen"):
            raise ValueError(f"cascade_action must be pull or widen (got {self.cascade_action!r})")
        if self.cascade_enter and not 0 < self.cascade_exit <= self.cascade_enter:
            raise ValueError("cascade_exit must be above 0 and at most cascade_enter")


NO_SPREAD_POLICY = SpreadParams()  # the configured half-spread always, no cascade response


@dataclass(frozen=True, slots=True)
class SideSpread:
    """One side's half-spread in ticks, whether it is pulled, and why it is not the
    configured one (empty: it is)."""

    half_spread: int
    pulled: bool = False
    reason: str = ""


class SpreadPolicy:
    """The cascade state per side (with its hysteresis) and each side's spread."""

    __slots__ = ("_cascade_since", "_plain", "_ratio", "_sigma", "params")

    def __init__(self, params: SpreadParams) -> None:
        self.params = params
        # The last spread given to a side out of a cascade: it is immutable, and the same
        # from one reaction to the next until the configuration or sigma moves it.
        self._plain: SideSpread | None = None
        self._cascade_since: dict[Side, float | None] = {Side.BID: None, Side.ASK: None}
        self._ratio: dict[Side, float] = {Side.BID: 1.0, Side.ASK: 1.0}
        self._sigma: float | None = None

    def update(
        self, now: float, sigma_ticks: float | None, aggressor_ratio: dict[Side, float]
    ) -> list[tuple[Side, bool]]:
        """Take the signals now (``sigma_ticks`` None while warming up; the cascade ratio per
        aggressor side) and move each side in or out of a cascade; returns the sides that
        moved, each with True when it entered one."""
        p = self.params
        self._sigma = sigma_ticks
        moved: list[tuple[Side, bool]] = []
        for side, aggressor in _RUN_OVER_BY.items():
            ratio = aggressor_ratio.get(aggressor, 1.0)
            self._ratio[side] = ratio
            if not p.cascade_enter:
                continue
            since = self._cascade_since[side]
            if since is None:
                if ratio >= p.cascade_enter:
                    self._cascade_since[side] = now
                    moved.append((side, True))
            elif ratio < p.cascade_exit and now - since >= p.cascade_hold_s:
                self._cascade_since[side] = None
                moved.append((side, False))
        return moved

    def in_cascade(self, side: Side) -> bool:
        return self._cascade_since[side] is not None

    def side(self, side: Side, configured: int) -> SideSpread:
        """``side``'s spread now, from the ``configured`` half-spread (ticks)."""
        p = self.params
        half, reason = configured, ""
        sigma = self._sigma
        if p.volatility_multiplier and sigma is not None:
            wanted = min(p.cap_ticks, round(p.volatility_multiplier * sigma))
            if wanted > configured:
                half, reason = wanted, f"volatility: σ1s {sigma:.0f}t"
        if self._cascade_since[side] is None:
            plain = self._plain
            if plain is None or plain.half_spread != half or plain.reason != reason:
                plain = self._plain = SideSpread(half, False, reason)
            return plain
        cascade = f"cascade: intensity {self._ratio[side]:.1f}x baseline"
        if p.cascade_action == "pull":
            return SideSpread(half, True, cascade)
        return SideSpread(max(half + 1, round(half * p.cascade_widen)), False, cascade)
