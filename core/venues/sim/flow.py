"""Synthetic order flow: the market our maker quotes into.

Three things make the book move and fill our quotes, each with its own random stream derived
from the seed (so turning a fault on never changes the market path):

- a fair price following a jump-diffusion (lognormal steps every ``fair_step_s`` plus rare
  jumps), kept as a float in ticks — it is never a price on the book, only where the other
  makers centre their quotes;
- other makers' ladder: ``depth_levels`` contiguous valid prices per side around fair, updated
  incrementally on their requote cycle (withdraw the levels that are now too close, add the
  ones that became due, trim the far end; refill what takers swept; resize a few levels at
  random).  When fair moves through one of our stale quotes, the new level trades with it
  first: that is how a maker gets picked off;
- Poisson takers with Pareto (heavy-tailed) sizes sweeping the book up to a slippage limit --
  or, with cascades on (issue 20, ``core.venues.sim.cascades``), self-exciting takers with
  liquidation-like shocks, and volatility that rises with their heat.

On a binary market (a bounded instrument: prices within [grid, one - grid]) fair walks in
log-odds instead (the same volatility and jumps, as moves of the log-odds), reflected so that
it stays strictly inside (grid, one - grid) with half a tick to spare, and the ladder is
clipped at the bounds: the other makers never quote outside them or off the venue's current
grid, which ``regrid`` changes (D39).

All changes go through the matching engine; this module never touches an account, never
builds an event itself and never reads a clock (times come from the exchange).
"""

from __future__ import annotations

import math
import random
from collections import deque

from core.events import Side
from core.simconfig import FlowConfig
from core.units import Instrument
from core.venues.sim.cascades import HawkesTakers
from core.venues.sim.engine import Market, MatchingEngine

BID = Side.BID
ASK = Side.ASK
_INF = math.inf


class _Ladder:
    """The other makers' quotes on one side: contiguous valid prices, best first, and the size
    each maker wants at each price.  ``sign`` orders prices: ``(a - b) * sign > 0`` means ``a``
    is better (closer to the spread) than ``b``."""

    __slots__ = ("depleted", "prices", "side", "sign", "targets")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.sign = 1 if side is BID else -1
        self.prices: deque[int] = deque()
        self.targets: dict[int, int] = {}
        self.depleted: dict[int, None] = {}  # prices a taker swept, to refill


class _Grid:
    """Valid prices of one instrument, fast: the significant-figure step depends only on the
    number of digits of the tick count, so it is recomputed only when the price leaves its
    power-of-ten range."""

    def __init__(self, instrument: Instrument) -> None:
        self._instrument = instrument
        self._lo = self._hi = self._step = 1

    def step(self, ticks: int) -> int:
        if not self._lo <= ticks < self._hi:
            digits = len(str(ticks))
            self._lo, self._hi = 10 ** (digits - 1), 10**digits
            self._step = self._instrument.price_step(ticks)
        return self._step

    def down(self, ticks: int) -> int:
        """The highest valid price <= ``ticks`` (same rule as ``Instrument.round_ticks``)."""
        return ticks - ticks % self.step(ticks)

    def up(self, ticks: int) -> int:
        step = self.step(ticks)
        rest = ticks % step
        return ticks + step - rest if rest else ticks


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


class SyntheticFlow:
    """The other participants of one market, driven by the exchange's event loop."""

    def __init__(
        self,
        engine: MatchingEngine,
        market: Market,
        config: FlowConfig,
        seed: int,
        start: float,
        start_ticks: int,
    ) -> None:
        self._engine = engine
        self._market = market
        self._book = market.book
        self._grid = _Grid(market.instrument)
        self._fair_rng = random.Random(f"{seed}:fair")
        self._depth_rng = random.Random(f"{seed}:depth")
        self._refresh_rng = random.Random(f"{seed}:refresh")
        self._taker_rng = random.Random(f"{seed}:takers")
        lot = market.instrument.lot_size
        self._step_s = config.fair_step_s
        self._sigma = config.volatility_bps / 1e4 * math.sqrt(config.fair_step_s)
        self._jump_p = config.jump_rate_per_min / 60.0 * config.fair_step_s
        self._jump_mean = config.jump_bps / 1e4
        self._half_spread = config.spread_bps / 2e4
        self._depth = config.depth_levels
        self._level_lots = int(config.level_size / lot)
        self._growth = config.level_size_growth
        self._refresh_rate = config.refresh_rate_per_s
        self._replenish_s = config.replenish_s
        self._taker_rate = config.taker_rate_per_s
        self._taker_min = int(config.taker_min_size / lot)
        self._taker_max = int(config.taker_max_size / lot)
        self._alpha = config.taker_tail_alpha
        self._slippage = config.taker_max_slippage_bps / 1e4
        self.fair = float(start_ticks)
        self._floor = max(1.0, start_ticks / 100.0)  # a random walk may fall, not to zero
        # A binary market: prices within [lowest, highest] ticks, ``one`` tick count a whole
        # unit of price (1 pUSD).
        instrument = market.instrument
        self._bounded = instrument.bounded
        self._one = instrument.max_ticks + instrument.grid if self._bounded else 0
        self._lowest = instrument.min_ticks
        self._highest = instrument.max_ticks
        self._bids = _Ladder(BID)
        self._asks = _Ladder(ASK)
        self._start = start
        self._cycles = 1
        self._next_cycle = start + self._step_s
        self._cascades: HawkesTakers | None = None
        self._taker_side = BID
        self._next_shock = _INF
        if config.cascade_branching or config.cascade_rate_per_min:
            self._cascades = HawkesTakers(
                config.taker_rate_per_s,
                config.cascade_branching,
                config.cascade_decay_s,
                random.Random(f"{seed}:cascades"),
            )
            self._shock_rng = random.Random(f"{seed}:shocks")
            self._shock_rate = config.cascade_rate_per_min / 60.0
            self._shock_takers = config.cascade_shock_takers
            self._shock_jump = config.cascade_jump_bps / 1e4
            self._next_shock = self._after(start, self._shock_rate, self._shock_rng)
            self._next_taker, self._taker_side = self._cascades.next_event(start)
        else:
            self._next_taker = self._after(start, self._taker_rate, self._taker_rng)
        self._refill_at = _INF  # the first cycle at or after this refills swept levels
        self.next_time = min(self._next_cycle, self._next_taker, self._next_shock)
        market.mark = start_ticks
        self._requote(start)

    @property
    def ladder(self) -> dict[Side, tuple[int, ...]]:
        """The other makers' quoted prices per side, best first (for tests and the view)."""
        return {BID: tuple(self._bids.prices), ASK: tuple(self._asks.prices)}

    def step(self) -> None:
        """Run the earliest due flow event, at its own time ``next_time``."""
        t = self.next_time
        cascades = self._cascades
        if t == self._next_cycle:
            self._cycle(t)
            self._cycles += 1
            self._next_cycle = self._start + self._cycles * self._step_s
        elif t == self._next_shock and cascades is not None:
            self._shock(cascades, t)
            self._next_shock = self._after(t, self._shock_rate, self._shock_rng)
        elif cascades is not None:
            side = self._taker_side
            self._taker(t, side)
            cascades.taken(side, t)
            self._next_taker, self._taker_side = cascades.next_event(t)
        else:
            self._taker(t, BID if self._taker_rng.random() < 0.5 else ASK)
            self._next_taker = self._after(t, self._taker_rate, self._taker_rng)
        self.next_time = min(self._next_cycle, self._next_taker, self._next_shock)

    def _shock(self, cascades: HawkesTakers, now: float) -> None:
        """A liquidation-like burst: one side's takers surge, and fair jumps their way."""
        rng = self._shock_rng
        side = BID if rng.random() < 0.5 else ASK
        cascades.excite(side, now, self._shock_takers)
        if self._taker_rate:  # the takers' next arrival is drawn again at the new intensity
            self._next_taker, self._taker_side = cascades.next_event(now)
        if self._shock_jump:
            move = self._shock_jump if side is BID else -self._shock_jump
            if self._bounded:
                self.fair = self._odds_step(move)
            else:
                self.fair = max(self.fair * math.exp(move), self._floor)
            self._market.mark = round(self.fair)
            self._requote(now)

    def calm(self) -> None:
        """From now on no taker trades and fair stands still (the other makers only change
        their sizes), so nothing fills a resting order of ours any more: what is in flight
        drains and belief can be compared with the venue exactly (the swarm's quiescence)."""
        self._taker_rate = 0.0
        self._next_taker = _INF
        self._next_shock = _INF
        self._sigma = 0.0
        self._jump_p = 0.0
        self.next_time = min(self._next_cycle, self._next_taker)

    @staticmethod
    def _after(t: float, rate: float, rng: random.Random) -> float:
        return t + rng.expovariate(rate) if rate > 0 else _INF

    def _cycle(self, now: float) -> None:
        """The other makers' requote cycle: fair moves, the ladder follows, a few sizes change
        and swept levels refill — all in one websocket message, as a venue batches them."""
        if self._sigma or self._jump_p:
            self._move_fair(now)
        if self._refresh_rate:
            expected = self._refresh_rate * self._step_s
            changes = int(expected)
            if self._refresh_rng.random() < expected - changes:
                changes += 1
            for _ in range(changes):
                self._refresh(now)
        if now >= self._refill_at:
            self._replenish(now)
            self._refill_at = _INF

    # ---- fair price and the ladder ----------------------------------------------------

    def _move_fair(self, now: float) -> None:
        rng = self._fair_rng
        sigma = self._sigma
        cascades = self._cascades
        if cascades is not None:  # volatility clusters with the flow's heat
            sigma *= math.sqrt(cascades.heat(now))
        if self._bounded:
            move = sigma * rng.gauss(0.0, 1.0)
            if self._jump_p and rng.random() < self._jump_p:
                jump = rng.expovariate(1.0 / self._jump_mean) if self._jump_mean else 0.0
                move += jump if rng.random() < 0.5 else -jump
            self.fair = self._odds_step(move)
            self._market.mark = round(self.fair)
            self._requote(now)
            return
        fair = self.fair * math.exp(sigma * rng.gauss(0.0, 1.0))
        if self._jump_p and rng.random() < self._jump_p:
            jump = rng.expovariate(1.0 / self._jump_mean) if self._jump_mean else 0.0
            fair *= math.exp(jump if rng.random() < 0.5 else -jump)
        self.fair = max(fair, self._floor)
        self._market.mark = round(self.fair)
        self._requote(now)

    def _odds_step(self, move: float) -> float:
        """A binary market's fair after ``move`` in log-odds, reflected off (and at worst held
        at) the bounds half a tick inside [lowest, highest]: strictly between them."""
        one = self._one
        low, high = _logit((self._lowest + 0.5) / one), _logit((self._highest - 0.5) / one)
        x = _logit(self.fair / one) + move
        if x < low:
            x = 2 * low - x
        elif x > high:
            x = 2 * high - x
        x = min(max(x, low), high)
        return one / (1.0 + math.exp(-x))

    def regrid(self, now: float) -> None:
        """D39: the venue moved its tick.  The other makers withdraw every level and quote the
        new grid at once; fair is held inside the new bounds."""
        instrument = self._market.instrument
        self._grid = _Grid(instrument)
        self._lowest = instrument.min_ticks
        self._highest = instrument.max_ticks
        self.fair = min(max(self.fair, self._lowest + 0.5), self._highest - 0.5)
        self._market.mark = round(self.fair)
        for ladder in (self._bids, self._asks):
            while ladder.prices:
                self._pull(ladder, ladder.prices.pop())
            ladder.depleted.clear()
        self._requote(now)

    def _requote(self, now: float) -> None:
        """Recentre the ladder on fair: withdraw first on both sides (so the other makers
        never trade with themselves), then advance, then keep the depth."""
        half = self.fair * self._half_spread
        bid_top = self._grid.down(max(1, math.floor(self.fair - half)))
        ask_top = self._grid.up(math.ceil(self.fair + half))
        if self._bounded:  # clipped at the bounds, one step apart at least
            bid_top = min(max(bid_top, self._lowest), self._highest - self._grid.step(bid_top))
            ask_top = max(min(ask_top, self._highest), bid_top + self._grid.step(bid_top))
        if ask_top <= bid_top:
            ask_top = self._outward(ASK, bid_top)
        bids, asks = self._bids, self._asks
        if bids.prices and bids.prices[0] == bid_top and asks.prices and asks.prices[0] == ask_top:
            return
        self._retreat(bids, bid_top)
        self._retreat(asks, ask_top)
        self._advance(bids, bid_top, now)
        self._advance(asks, ask_top, now)
        self._keep_depth(bids, now)
        self._keep_depth(asks, now)

    def _outward(self, side: Side, price: int) -> int:
        """The next valid price away from the spread (0 when there is none beyond: below one
        tick, or beyond a binary market's bounds)."""
        if self._bounded:
            if side is BID:
                price = self._grid.down(price - 1) if price > 1 else 0
                return price if price >= self._lowest else 0
            price = self._grid.up(price + 1)
            return price if price <= self._highest else 0
        if side is BID:
            return self._grid.down(price - 1) if price > 1 else 0
        return self._grid.up(price + 1)

    def _retreat(self, ladder: _Ladder, top: int) -> None:
        prices = ladder.prices
        sign = ladder.sign
        while prices and (prices[0] - top) * sign > 0:
            self._pull(ladder, prices.popleft())

    def _advance(self, ladder: _Ladder, top: int, now: float) -> None:
        prices = ladder.prices
        sign = ladder.sign
        if prices and (top - prices[0]) * sign <= 0:
            return
        fresh: list[int] = []
        price = top
        while len(fresh) < self._depth and price > 0:
            if prices and (price - prices[0]) * sign <= 0:
                break
            fresh.append(price)
            price = self._outward(ladder.side, price)
        if prices and price > 0 and (price - prices[0]) * sign > 0:
            # Fair jumped further than the ladder is deep: the old ladder is all stale.
            while prices:
                self._pull(ladder, prices.pop())
        for index in range(len(fresh) - 1, -1, -1):
            self._add(ladder, fresh[index], index, now)
            prices.appendleft(fresh[index])

    def _keep_depth(self, ladder: _Ladder, now: float) -> None:
        prices = ladder.prices
        while len(prices) > self._depth:
            self._pull(ladder, prices.pop())
        while prices and len(prices) < self._depth:
            price = self._outward(ladder.side, prices[-1])
            if price <= 0:
                break
            self._add(ladder, price, len(prices), now)
            prices.append(price)

    def _level_size(self, index: int, rng: random.Random) -> int:
        """Deeper levels are larger; each maker's size varies +-50% around that."""
        size = self._level_lots * (1.0 + self._growth * index) * (0.5 + rng.random())
        return max(1, int(size))

    def _add(self, ladder: _Ladder, price: int, index: int, now: float) -> None:
        lots = self._level_size(index, self._depth_rng)
        ladder.targets[price] = lots
        self._engine.add_liquidity(self._market, ladder.side, price, lots, now)

    def _pull(self, ladder: _Ladder, price: int) -> None:
        del ladder.targets[price]
        self._book.pull_synthetic(ladder.side, price)

    # ---- takers, refreshes, replenishment ---------------------------------------------

    def _taker(self, now: float, side: Side) -> None:
        rng = self._taker_rng
        lots = min(self._taker_max, int(self._taker_min * rng.paretovariate(self._alpha)))
        if side is BID:
            limit = math.ceil(self.fair * (1.0 + self._slippage))
        else:
            limit = max(1, math.floor(self.fair * (1.0 - self._slippage)))
        self.sweep(side, lots, limit, now)

    def sweep(self, side: Side, lots: int, limit: int | None, now: float) -> None:
        """A taker of ``side`` trades up to ``lots`` (not beyond ``limit``); the other makers
        refill what it took on a later cycle."""
        worst = self._engine.take(self._market, side, limit, lots, now)
        if worst is None:
            return
        swept = self._asks if side is BID else self._bids
        for price in swept.prices:
            if (worst - price) * swept.sign > 0:
                break
            swept.depleted[price] = None
        if self._refill_at == _INF:
            self._refill_at = now + self._replenish_s

    def _refresh(self, now: float) -> None:
        """One of the other makers changes its size at one level."""
        rng = self._refresh_rng
        ladder = self._bids if rng.random() < 0.5 else self._asks
        prices = ladder.prices
        if not prices:
            return
        index = rng.randrange(len(prices))
        price = prices[index]
        target = self._level_size(index, rng)
        ladder.targets[price] = target
        current = self._book.synthetic_size(ladder.side, price)
        if target > current:
            self._engine.add_liquidity(self._market, ladder.side, price, target - current, now)
        elif target < current:
            self._book.shrink_synthetic(ladder.side, price, current - target)

    def _replenish(self, now: float) -> None:
        """The other makers refill the levels a taker swept, if they still quote them."""
        for ladder in (self._bids, self._asks):
            for price in ladder.depleted:
                target = ladder.targets.get(price)
                if target is None:
                    continue
                current = self._book.synthetic_size(ladder.side, price)
                if current < target:
                    self._engine.add_liquidity(
                        self._market, ladder.side, price, target - current, now
                    )
            ladder.depleted.clear()
