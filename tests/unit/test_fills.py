"""D4 — the FillLedger: each trade id counted once, immediate fills skipped by amount, and
memory that stays bounded for a process that runs for weeks."""

from __future__ import annotations

import pytest

from core.fills import FillLedger


def test_a_tid_seen_twice_is_a_duplicate_D4():
    ledger = FillLedger()
    assert ledger.first_sighting(1, now=0.0)
    assert not ledger.first_sighting(1, now=0.1)
    assert not ledger.first_sighting(1, now=0.2)
    assert ledger.first_sighting(2, now=0.3)
    assert ledger.duplicates == 2
    assert len(ledger) == 2


def test_immediate_amount_is_skipped_across_several_stream_fills_D4():
    """S2: 0.6 filled at once, the stream repeats it as 0.3 + 0.3, then a genuine 0.2."""
    ledger = FillLedger()
    ledger.register_immediate("c2", 6)
    assert ledger.consume_immediate("c2", 3) == 3
    assert ledger.immediate_remaining("c2") == 3
    assert ledger.consume_immediate("c2", 3) == 3
    assert ledger.immediate_remaining("c2") == 0
    assert ledger.consume_immediate("c2", 2) == 0


def test_skip_is_min_of_remaining_immediate_and_fill_size_D4():
    """A stream fill larger than what is left of the immediate amount is partly new."""
    ledger = FillLedger()
    ledger.register_immediate("c", 5)
    assert ledger.consume_immediate("c", 3) == 3
    assert ledger.consume_immediate("c", 4) == 2  # 2 repeated, 2 new
    assert ledger.consume_immediate("c", 4) == 0


def test_immediate_amounts_are_per_order_and_accumulate_D4():
    ledger = FillLedger()
    ledger.register_immediate("a", 2)
    ledger.register_immediate("a", 3)
    ledger.register_immediate("b", 1)
    ledger.register_immediate("b", 0)  # nothing: no entry change
    assert ledger.immediate_remaining("a") == 5
    assert ledger.consume_immediate("b", 4) == 1
    assert ledger.consume_immediate(None, 4) == 0  # a fill we cannot attribute skips nothing
    assert ledger.consume_immediate("unknown", 4) == 0
    ledger.forget_order("a")
    assert ledger.immediate_remaining("a") == 0
    ledger.forget_order("never-seen")  # harmless


def test_negative_immediate_amount_is_a_programming_error_D4():
    with pytest.raises(ValueError, match=">= 0"):
        FillLedger().register_immediate("c", -1)


@pytest.mark.parametrize("kwargs", [{"max_tids": 0}, {"retention": 0.0}, {"retention": -1.0}])
def test_ledger_refuses_unbounded_or_empty_settings_D4(kwargs):
    with pytest.raises(ValueError):
        FillLedger(**kwargs)


def test_tid_memory_is_bounded_by_count_D4():
    """The oldest tid goes first once the cap is reached; memory never grows past it."""
    ledger = FillLedger(max_tids=100, retention=1e9)
    for tid in range(1000):
        assert ledger.first_sighting(tid, now=float(tid))
        assert len(ledger) <= 100
    assert len(ledger) == 100
    assert not ledger.first_sighting(999, now=1000.0)  # recent: still known
    assert not ledger.first_sighting(900, now=1000.0)
    # Older than the cap: forgotten (the price of bounded memory), so it reads as new.
    assert ledger.first_sighting(0, now=1000.0)


def test_tid_memory_is_bounded_by_age_D4():
    ledger = FillLedger(max_tids=1_000_000, retention=60.0, min_keep=0)
    for tid in range(100):
        ledger.first_sighting(tid, now=float(tid) * 0.1)  # t = 0 .. 9.9
    assert len(ledger) == 100
    ledger.first_sighting(1000, now=65.0)  # horizon 5.0: tids seen before t=5 are forgotten
    assert len(ledger) == 51
    assert not ledger.first_sighting(50, now=65.0)  # seen at 5.0: kept
    assert ledger.first_sighting(49, now=65.0)  # seen at 4.9: forgotten
    ledger.first_sighting(2000, now=10_000.0)
    assert len(ledger) == 1  # a quiet hour later only the newest remains


def test_a_duplicate_does_not_refresh_its_age_D4():
    """Retention counts from the first sighting: a replay storm cannot pin tids forever."""
    ledger = FillLedger(retention=10.0, min_keep=0)
    ledger.first_sighting(1, now=0.0)
    assert not ledger.first_sighting(1, now=9.0)
    ledger.first_sighting(2, now=10.5)
    assert ledger.first_sighting(1, now=10.6)


def test_age_never_forgets_the_newest_tids_a_venue_may_replay_D4():
    """Venues bound replays by count (Hyperliquid's snapshot is its most recent fills, however
    old): after a quiet day the last fills are still known, so their replay is not counted."""
    ledger = FillLedger(max_tids=1000, retention=60.0, min_keep=50)
    for tid in range(200):
        ledger.first_sighting(tid, now=float(tid))
    ledger.first_sighting(10_000, now=86_400.0)  # a day later
    assert len(ledger) == 50
    assert all(not ledger.first_sighting(tid, now=86_401.0) for tid in range(151, 200))


def test_ledger_memory_stays_flat_over_a_long_run_D4():
    ledger = FillLedger(max_tids=500, retention=30.0)
    sizes = []
    for tid in range(20_000):
        ledger.first_sighting(tid, now=tid * 0.01)
        if tid % 1000 == 0:
            sizes.append(len(ledger))
    assert max(sizes) <= 500
    assert len(ledger) <= 500
