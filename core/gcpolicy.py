"""The garbage collector's policy for a long-running, latency-sensitive process.

CPython's full (generation 2) collection walks every tracked object while holding the GIL.
With the console and the maker in one process that walk took about 90 ms, every couple of
seconds at 5,000 events per second, and a kill key that landed on one waited for it (the
real-terminal kill benchmark, ``bench/bench_kill_tty.py``).  Once start-up is done, what exists
then (modules, the widget tree, configuration) lives as long as the process: ``quiet_collector``
moves it out of the collector's reach (``gc.freeze``) and makes full collections ten times
rarer.  Cyclic garbage is still collected; young objects as often as before.

Young collections are short, but CPython starts one on whichever allocation crosses the
threshold: inside a reaction, a young collection of generation 1 took 5-20 ms on this machine
under load (``bench/PROFILE.md``), ten times the reaction's own worst case.  So a process that
runs the engine *paces* its collections (``PacedCollections``): automatic collection is off
while the runner runs, and the runner calls ``collect_due`` when an event's or a tick's
commands have left -- the same generations on CPython's own schedule (``gc.get_count`` keeps
counting while collection is off), never between an event and the commands it causes.  An
operator's action waits at most for the one collection in progress.
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


def collect_due() -> int:
    """Run the collection CPython would have run by now, if one is due; the generation
    collected, or -1.  Called between events, never inside one."""
    young, middle, full = gc.get_threshold()
    count0, count1, count2 = gc.get_count()
    if count0 < young:
        return -1
    generation = 0
    if count1 >= middle:
        generation = 2 if count2 >= full else 1
    gc.collect(generation)
    return generation


class PacedCollections:
    """Automatic collection off for as long as the engine runs (``with PacedCollections():``);
    the previous state comes back on leaving, so a process that runs several engines one after
    the other (the tests) is left as it was."""

    __slots__ = ("_was_enabled",)

    def __init__(self) -> None:
        self._was_enabled = False

    def __enter__(self) -> PacedCollections:
        self._was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            gc.enable()
