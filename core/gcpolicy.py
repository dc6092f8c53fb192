"""The garbage collector's policy for a long-running, latency-sensitive process.

CPython's full (generation 2) collection walks every tracked object while holding the GIL.
With the console and the maker in one process that walk took about 90 ms, every couple of
seconds at 5,000 events per second, and a kill key that landed on one waited for it (the
real-terminal kill benchmark, ``bench/bench_kill_tty.py``).  Once start-up is done, what exists
then (modules, the widget tree, configuration) lives as long as the process: ``quiet_collector``
moves it out of the collector's reach (``gc.freeze``) and makes full collections ten times
rarer.  Cyclic garbage is still collected; young objects as often as before.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_THRESHOLD = 100  # generation-1 collections between full ones (CPython: 10)
_quieted = False


def quiet_collector() -> None:
    """Call once, when start-up is over.  Frozen objects are still freed by reference
    counting; only a cycle among them, once garbage, is never collected.  No collection runs
    first: a full one here would be the very pause this avoids (a key pressed then waits)."""
    global _quieted
    if _quieted:  # once per process: a second freeze would pin what has died since
        return
    _quieted = True
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_THRESHOLD)
