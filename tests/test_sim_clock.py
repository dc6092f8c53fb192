"""Clocks: the virtual one only moves forward; the wall one never goes back."""

from __future__ import annotations

import pytest

from core.clock import VirtualClock, WallClock


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
