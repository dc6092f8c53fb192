"""The collector paced by the engine (issue 22, ``core/gcpolicy.py``): while an engine runs for
an operator, no collection starts inside ``MarketMaker.handle`` -- a young collection took
5-20 ms under load, ten times a reaction -- yet garbage is still collected, on CPython's own
schedule, between events."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from core.config import Config
from core.gcpolicy import PacedCollections, collect_due
from core.session import build_session


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collector_on() -> Any:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_nothing_is_due_below_the_young_threshold(collector_on: None) -> None:
    gc.collect()
    with PacedCollections():
        assert not gc.isenabled()
        assert collect_due() == -1


def test_due_garbage_is_collected_on_cpythons_schedule(collector_on: None) -> None:
    young, middle, _ = gc.get_threshold()
    gc.collect()
    collected: list[int] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collected.append(info["collected"])

    gc.callbacks.append(on_gc)
    try:
        with PacedCollections():
            for _ in range(young + 10):
                _Cycle()
            assert gc.get_count()[0] >= young  # counted, not collected: collection is off
            assert collected == []
            assert collect_due() == 0
            assert sum(collected) >= young  # the cycles are gone
            generations = []
            for _ in range(middle):
                for _ in range(young + 10):
                    _Cycle()
                generations.append(collect_due())
            assert 1 in generations  # every ``middle`` young ones, a middle one
    finally:
        gc.callbacks.remove(on_gc)


def test_leaving_restores_what_was_there(collector_on: None) -> None:
    with PacedCollections():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with PacedCollections():
        assert not gc.isenabled()
    assert not gc.isenabled()  # it was off before: it stays off


def test_a_paced_engine_never_collects_inside_a_reaction(collector_on: None) -> None:
    """The embedded exchange for a second of wall clock: every collection that runs while the
    engine does is outside ``handle``, collections do run, and the collector is back on after."""
    session = build_session(Config(), seed=7)
    session.runner.paced_collections = True
    maker = session.maker
    inside = [False]
    handled = [0]
    original = maker.handle

    def handle(event: Any, now: float) -> Any:
        inside[0] = True
        try:
            handled[0] += 1
            return original(event, now)
        finally:
            inside[0] = False

    maker.handle = handle  # type: ignore[method-assign]
    starts: list[bool] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            starts.append(inside[0])

    threshold = gc.get_threshold()
    gc.set_threshold(5, 10, 10)  # so often that unpaced, some would start inside handle
    gc.callbacks.append(on_gc)
    try:
        asyncio.run(session.runner.run(1.0))
    finally:
        gc.callbacks.remove(on_gc)
        gc.set_threshold(*threshold)
    assert handled[0] > 50
    assert starts, "no collection ran at all"
    assert not any(starts), f"{sum(starts)} of {len(starts)} collections inside handle"
    assert gc.isenabled()
