"""Stuck reduce-only recovery with IOC (D15, D26), unit level."""

from __future__ import annotations

import pytest

from core.events import RejectionClass, Side
from core.recovery import (
    RecoveryOrder,
    RecoveryParams,
    RecoverySnapshot,
    RecoveryState,
    ReduceOnlyRecovery,
)

ALO_TEXT = "Post only order would have immediately matched, bbo was 99@100. asset=0"
STALE_TEXT = "Reduce only order would increase position. asset=0"
PE = RejectionClass.PRICE_ERROR
PL = RejectionClass.POSITION_LIMIT
STALE = RejectionClass.STALE_POSITION

PARAMS = RecoveryParams(
    rejection_threshold=3,
    min_ioc_size=3,
    cooldown=2.0,
    max_attempts=3,
    slippage_ticks=2,
    answer_timeout=10.0,
    done_display=5.0,
)
MAX = 10  # max position 1.0 in lots of 0.1


def state(r: ReduceOnlyRecovery) -> RecoveryState:
    """Read through calls so that the type checker does not pin a value after an assert."""
    return r.state


def skips(r: ReduceOnlyRecovery) -> bool:
    return r.skip_normal_quoting


def wants_refresh(r: ReduceOnlyRecovery) -> bool:
    return r.needs_position_refresh


def stuck(position: int = 20, now: float = 0.0) -> ReduceOnlyRecovery:
    """Over the limit, three reduce-only asks rejected in a row: Armed."""
    r = ReduceOnlyRecovery(PARAMS)
    assert r.update(position, MAX, 99, 100, now) is None
    for _ in range(3):
        r.on_reduce_only_rejected(PE, ALO_TEXT, now)
    assert state(r) is RecoveryState.ARMED
    return r


def test_S12_stuck_reduce_only_recovery_D15() -> None:
    """Max position 1.0, position +2.0, reduce-only asks rejected three times in a row:
    Armed -> Sending an IOC sell of at least min_ioc_size, normal quoting skipped, cooldown
    between attempts, Done once back within limits, then normal quoting resumes."""
    r = ReduceOnlyRecovery(PARAMS)
    assert r.update(20, MAX, 99, 100, 0.0) is None
    r.on_reduce_only_rejected(PE, ALO_TEXT, 0.1)
    r.on_reduce_only_rejected(PE, ALO_TEXT, 0.2)
    assert state(r) is RecoveryState.IDLE and not skips(r)
    r.on_reduce_only_rejected(PE, ALO_TEXT, 0.3)
    assert state(r) is RecoveryState.ARMED and skips(r)

    order = r.update(20, MAX, 99, 100, 0.4)
    assert order == RecoveryOrder(Side.ASK, price=97, size=10, reduce_only=True)
    assert state(r) is RecoveryState.SENDING and r.attempts == 1 and skips(r)
    assert r.update(20, MAX, 99, 100, 0.45) is None  # one IOC in flight at a time

    r.on_ioc_result(6, 0.5)
    assert state(r) is RecoveryState.COOLDOWN and skips(r)
    assert r.update(14, MAX, 98, 99, 1.5) is None
    assert r.cooldown_left(1.5) == 1.0

    order = r.update(14, MAX, 98, 99, 2.5)
    assert order == RecoveryOrder(Side.ASK, price=96, size=4)  # the freshest position (D26)
    assert r.attempts == 2
    r.on_ioc_result(4, 2.6)

    assert r.update(10, MAX, 98, 99, 2.7) is None  # back inside: no need to wait the cooldown
    assert state(r) is RecoveryState.DONE and not skips(r)
    assert r.snapshot(3.0) == RecoverySnapshot(
        RecoveryState.DONE,
        attempts=2,
        cooldown_left=0.0,
        consecutive_rejections=0,
        last_reason="IOC filled 4 lots",
    )
    r.update(10, MAX, 98, 99, 7.6)
    assert state(r) is RecoveryState.DONE
    r.update(10, MAX, 98, 99, 7.7)
    assert state(r) is RecoveryState.IDLE


def test_S12_stale_position_asks_refresh_and_one_retry_D26() -> None:
    """A "Reduce only order would increase position." rejection first forces a refresh and a
    retry; only the repeats count toward the stuck case."""
    r = ReduceOnlyRecovery(PARAMS)
    r.update(20, MAX, 99, 100, 0.0)
    r.on_reduce_only_rejected(STALE, STALE_TEXT, 0.1)
    assert wants_refresh(r) and r.consecutive_rejections == 0
    r.on_position_refreshed()
    assert not wants_refresh(r)
    r.update(20, MAX, 99, 100, 0.2)  # the refreshed position is still over the limit
    r.on_reduce_only_rejected(STALE, STALE_TEXT, 0.3)  # the retry fails too: now it counts
    assert r.consecutive_rejections == 1 and wants_refresh(r)
    r.on_position_refreshed()
    r.on_reduce_only_rejected(STALE, STALE_TEXT, 0.4)
    r.on_reduce_only_rejected(STALE, STALE_TEXT, 0.5)
    assert state(r) is RecoveryState.ARMED
    assert r.snapshot(0.5).last_reason == STALE_TEXT


def test_a_stale_position_rejection_after_an_acceptance_gets_a_new_retry_D26() -> None:
    r = ReduceOnlyRecovery(PARAMS)
    r.update(20, MAX, 99, 100, 0.0)
    r.on_reduce_only_rejected(STALE, STALE_TEXT, 0.1)
    r.on_reduce_only_rejected(STALE, STALE_TEXT, 0.2)
    assert r.consecutive_rejections == 1
    r.on_reduce_only_accepted()
    assert r.consecutive_rejections == 0
    r.on_reduce_only_rejected(STALE, STALE_TEXT, 0.3)
    assert r.consecutive_rejections == 0


def test_only_the_class_says_the_position_is_stale_D26() -> None:
    """The text is for the operator: a PositionLimit that reads like a stale position counts at
    once and asks for no refresh."""
    r = ReduceOnlyRecovery(PARAMS)
    r.update(20, MAX, 99, 100, 0.0)
    r.on_reduce_only_rejected(PL, STALE_TEXT, 0.1)
    assert r.consecutive_rejections == 1 and not wants_refresh(r)


def test_rejections_count_only_while_over_the_limit_D15() -> None:
    r = ReduceOnlyRecovery(PARAMS)
    for _ in range(5):
        r.on_reduce_only_rejected(PE, ALO_TEXT, 0.0)  # no update yet: not known to be over
    r.update(10, MAX, 99, 100, 0.0)  # at the limit, not over it
    for _ in range(5):
        r.on_reduce_only_rejected(PE, ALO_TEXT, 0.1)
    assert state(r) is RecoveryState.IDLE and r.consecutive_rejections == 0


def test_rate_limit_rejections_do_not_count_D15() -> None:
    r = ReduceOnlyRecovery(PARAMS)
    r.update(20, MAX, 99, 100, 0.0)
    for _ in range(5):
        r.on_reduce_only_rejected(RejectionClass.RATE_LIMIT, "HTTP 429", 0.1)
    assert state(r) is RecoveryState.IDLE and r.consecutive_rejections == 0


def test_an_accepted_reduce_only_quote_ends_the_run_D15() -> None:
    r = ReduceOnlyRecovery(PARAMS)
    r.update(20, MAX, 99, 100, 0.0)
    r.on_reduce_only_rejected(PE, ALO_TEXT, 0.1)
    r.on_reduce_only_rejected(PE, ALO_TEXT, 0.2)
    r.on_reduce_only_accepted()
    r.on_reduce_only_rejected(PE, ALO_TEXT, 0.3)
    assert state(r) is RecoveryState.IDLE and r.consecutive_rejections == 1


def test_cooldown_between_attempts_D15() -> None:
    r = stuck()
    assert r.update(20, MAX, 99, 100, 1.0) is not None
    r.on_ioc_result(0, 1.1, "Order could not immediately match against any resting orders.")
    assert r.cooldown_left(1.1) == 2.0
    assert r.cooldown_left(2.6) == pytest.approx(0.5)
    assert r.update(20, MAX, 99, 100, 3.0) is None
    assert r.snapshot(3.0).last_reason.startswith("Order could not immediately match")
    assert r.update(20, MAX, 99, 100, 3.1) is not None
    assert r.attempts == 2 and r.cooldown_left(3.1) == 0.0


def test_gives_up_after_max_attempts_until_reset_D15() -> None:
    r = stuck()
    now = 1.0
    for attempt in range(1, 4):
        assert r.update(20, MAX, 99, 100, now) is not None
        assert r.attempts == attempt
        r.on_ioc_result(0, now)
        now += 2.0
    assert r.update(20, MAX, 99, 100, now) is None
    assert state(r) is RecoveryState.GAVE_UP and not skips(r)
    for _ in range(5):
        r.on_reduce_only_rejected(PE, ALO_TEXT, now)
        assert r.update(20, MAX, 99, 100, now + 100.0) is None
    assert state(r) is RecoveryState.GAVE_UP and r.attempts == 3
    r.reset()
    assert r.snapshot(now) == RecoverySnapshot(RecoveryState.IDLE, 0, 0.0, 0, "")


def test_ioc_size_is_the_excess_raised_to_the_minimum_and_clamped_to_the_position_D15_D26() -> None:
    r = stuck(position=11)
    assert r.update(11, MAX, 99, 100, 1.0) == RecoveryOrder(Side.ASK, 97, 3)  # excess 1 -> 3
    r = ReduceOnlyRecovery(RecoveryParams(rejection_threshold=1, min_ioc_size=5))
    r.update(2, 0, 99, 100, 0.0)
    r.on_reduce_only_rejected(PE, ALO_TEXT, 0.0)
    assert r.update(2, 0, 99, 100, 0.1) == RecoveryOrder(Side.ASK, 94, 2)  # never a flip


def test_a_short_position_buys_through_the_ask_D15() -> None:
    r = stuck(position=-25)
    assert r.update(-25, MAX, 99, 100, 1.0) == RecoveryOrder(Side.BID, 102, 15)


def test_a_sell_price_never_goes_below_one_tick_D15() -> None:
    r = stuck()
    order = r.update(20, MAX, 1, 2, 1.0)
    assert order is not None and order.price == 1


def test_no_touch_no_ioc_D15() -> None:
    r = stuck()
    assert r.update(20, MAX, None, 100, 1.0) is None
    assert state(r) is RecoveryState.ARMED and r.attempts == 0
    assert r.update(20, MAX, 99, None, 1.1) is not None


def test_no_answer_to_the_ioc_still_moves_on_D8() -> None:
    r = stuck()
    r.update(20, MAX, 99, 100, 1.0)
    r.update(20, MAX, 99, 100, 10.9)
    assert state(r) is RecoveryState.SENDING
    r.update(20, MAX, 99, 100, 11.0)
    assert state(r) is RecoveryState.COOLDOWN
    assert r.snapshot(11.0).last_reason == "no answer to the recovery IOC"
    r.on_ioc_result(3, 11.5)  # a late answer changes nothing
    assert r.cooldown_left(11.5) == 1.5


def test_armed_but_back_inside_the_limit_goes_idle_D15() -> None:
    r = stuck()
    assert r.update(8, MAX, 99, 100, 1.0) is None
    assert state(r) is RecoveryState.IDLE and r.attempts == 0


def test_rearms_from_done_when_stuck_again_D15() -> None:
    r = stuck()
    r.update(20, MAX, 99, 100, 1.0)
    r.on_ioc_result(10, 1.1)
    r.update(10, MAX, 99, 100, 1.2)
    assert state(r) is RecoveryState.DONE
    r.update(20, MAX, 99, 100, 1.3)
    for _ in range(3):
        r.on_reduce_only_rejected(PE, ALO_TEXT, 1.4)
    assert state(r) is RecoveryState.ARMED and r.attempts == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rejection_threshold": 0}, "rejection_threshold"),
        ({"min_ioc_size": 0}, "min_ioc_size"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"slippage_ticks": -1}, "slippage_ticks"),
        ({"cooldown": -1.0}, "cooldown"),
        ({"answer_timeout": float("nan")}, "answer_timeout"),
    ],
)
def test_params_reject_nonsense_numbers(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RecoveryParams(**kwargs)  # type: ignore[arg-type]


def test_negative_max_position_is_an_error() -> None:
    with pytest.raises(ValueError, match="max position"):
        ReduceOnlyRecovery().update(1, -1, 99, 100, 0.0)
