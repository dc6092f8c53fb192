"""When and how a binary market's trades settle after matching (D38, reference section 5).

On Polymarket a match is only the start: the trade is MATCHED at once, mined, and CONFIRMED --
or RETRYING when its transaction failed, and then CONFIRMED after all or FAILED (void: nothing
moved).  ``SettlementPlan`` draws each trade's path when it is matched, from a random stream of
its own (so it moves no other draw), and hands the statuses back in time order; the exchange
applies the terminal ones to the account and tells the client.  Each trade's delay is drawn
around ``delay_s`` (0.5 to 1.5 times), so trades settle out of matching order.  A test may
``script`` the paths of the next trades instead (the loopback twin's control API).  It only
decides and schedules: it never touches an account and never reads a clock.
"""

from __future__ import annotations

import heapq
import math
import random

from core.simconfig import SettlementConfig
from core.venues.sim.accounts import CONFIRMED, FAILED, MINED, RETRYING

# The statuses a trade can pass through after MATCHED; a path ends with a final one.
STATUSES = (MINED, RETRYING, CONFIRMED, FAILED)
FINAL = (CONFIRMED, FAILED)


class SettlementPlan:
    """The statuses still to come for the trades matched so far."""

    def __init__(self, config: SettlementConfig, seed: int) -> None:
        self._delay_s = config.delay_s
        self._fail = config.fail_probability
        self._retry = config.retrying_probability
        self._rng = random.Random(f"{seed}:settlement")
        self._repeat = config.repeat_probability
        self._repeats = random.Random(f"{seed}:settlement:repeats")
        self._steps: list[tuple[float, int, int, str]] = []  # (time, seq, tid, status)
        self._seq = 0
        self._script: list[tuple[str, ...]] = []  # paths the next trades take, in order

    def script(self, path: tuple[str, ...], count: int = 1) -> None:
        """The next ``count`` trades follow ``path`` after MATCHED (statuses of ``STATUSES``
        ending CONFIRMED or FAILED), evenly spaced over ``delay_s``, instead of a drawn one;
        they still make their draws, so the trades after them settle as they would have."""
        bad = [s for s in path if s not in STATUSES]
        if bad or not path or path[-1] not in FINAL or any(s in FINAL for s in path[:-1]):
            raise ValueError(
                f"a trade's path is statuses of {STATUSES} ending with one of {FINAL} (and "
                f"only there), got {list(path)}"
            )
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        self._script.extend([tuple(path)] * count)

    @property
    def next_time(self) -> float:
        return self._steps[0][0] if self._steps else math.inf

    def matched(self, tid: int, t: float) -> None:
        """Trade ``tid`` was matched at ``t``: draw its path.  Both draws are made for every
        trade, so the probabilities never shift the delays."""
        rng = self._rng
        fate = rng.random()
        delay = self._delay_s * (0.5 + rng.random())
        path: tuple[tuple[float, str], ...]
        if self._script:
            steps = self._script.pop(0)
            delay = self._delay_s
            path = tuple(((k + 1) / len(steps), status) for k, status in enumerate(steps))
        elif fate < self._fail:
            path = ((0.5, RETRYING), (1.0, FAILED))
        elif fate < self._fail + self._retry:
            path = ((0.5, RETRYING), (1.0, MINED), (1.5, CONFIRMED))
        else:
            path = ((0.5, MINED), (1.0, CONFIRMED))
        for share, status in path:
            self._seq += 1
            heapq.heappush(self._steps, (t + share * delay, self._seq, tid, status))

    def pop(self) -> tuple[float, int, str]:
        """The next status due: (time, tid, status)."""
        t, _, tid, status = heapq.heappop(self._steps)
        return t, tid, status

    def repeat(self) -> float | None:
        """How long after a final word the stream says it again, or None (draws only while
        repeats are on, from a stream of their own)."""
        if self._repeat and self._repeats.random() < self._repeat:
            return self._delay_s * self._repeats.random()
        return None

    def quiesce(self) -> None:
        """From now on every trade matched is confirmed and no final word is repeated (the
        trades already under way keep their paths): the swarm's quiet phase."""
        self._fail = self._retry = self._repeat = 0.0
