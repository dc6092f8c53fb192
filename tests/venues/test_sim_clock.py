"""Clocks: the virtual one only moves forward; the wall one never goes back; the one driver
that keeps the embedded exchange in step with live time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import pytest

from core.clock import VirtualClock, WallClock
from core.venues.sim.driver import ClockDriver


def test_the_virtual_clock_only_moves_forward() -> None:
    clock = VirtualClock(start=10.0)
    clock.advance(0.5)
    clock.set(11.0)
    assert clock.now() == 11.0
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(10.9)
    with pytest.raises(ValueError, match="negative"):
        clock.advance(-1.0)


def test_the_wall_clock_is_monotonic() -> None:
    clock = WallClock()
    first = clock.now()
    assert clock.now() >= first


async def _until(condition: Callable[[], bool]) -> None:
    """Let the loop run until ``condition`` holds (rounds of the loop, never a fixed sleep)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def test_the_clock_driver_steps_when_due_and_when_woken_never_otherwise() -> None:
    """The one driver of the embedded exchange on live time (``SimVenue`` and the loopback
    twin): a step due now steps again at once; with nothing due it waits (here an hour of
    ``idle_s``) until ``wake()``; each step sees the clock's time."""
    clock = VirtualClock(start=5.0)
    seen: list[float] = []

    async def step(now: float) -> float | None:
        seen.append(now)
        return now if len(seen) == 1 else None  # due again at once, then nothing scheduled

    async def scenario() -> None:
        driver = ClockDriver(clock, step, idle_s=3600.0)
        task = asyncio.create_task(driver.run())
        await _until(lambda: len(seen) == 2)
        for _ in range(50):  # nothing due: the driver sleeps
            await asyncio.sleep(0)
        assert seen == [5.0, 5.0]
        clock.advance(1.5)
        driver.wake()
        await _until(lambda: len(seen) == 3)
        assert seen[-1] == 6.5
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_a_step_that_raises_ends_the_clock_driver() -> None:
    async def step(now: float) -> float | None:
        raise RuntimeError("exchange broke")

    with pytest.raises(RuntimeError, match="exchange broke"):
        asyncio.run(ClockDriver(VirtualClock(), step).run())
