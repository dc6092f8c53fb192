"""Seeds the swarm found failing, kept as regression tests (issue 6, D22).

Each test replays one seed exactly (``mm-console swarm --seeds 1 --start SEED --trace`` shows
the whole run) and states the invariant it broke and why.
"""

from __future__ import annotations

import pytest

from core.harness import scenario
from core.harness.swarm import run_seed


def test_seed_8_not_found_while_placement_in_flight() -> None:
    """Seed 8: one_venue_order_per_intent at t=33.97 s.  Batch 101 (4 bids) leaves at 32.20 s
    and, with a 1.6 s request latency, reaches the venue at 33.81 s.  The maker's answer timeout
    (1 s) fires at 33.20 s, it queries by cloid, the venue truthfully says "unknownOid" (the
    request has not arrived), the grace period (0.5 s) is over, so the orders become Rejected
    and their intents are re-quoted (batch 105); then batch 101 arrives and rests as well: two
    venue orders for bid level 0 (and an orphan until the next sync).  Fixed: "not found" for an
    unanswered placement is believed only once the request can no longer arrive
    (``reconcile.request_lifetime_s``, D24)."""
    result = run_seed(8)
    assert result.invariant is None, "\n".join(result.report)


@pytest.mark.parametrize("seed", [2089, 2129])
def test_seeds_2089_2129_stale_not_found_believed_over_newer_venue_news(seed: int) -> None:
    """Seeds 2089 and 2129 (an early session): a "not found" that was older than the venue's
    own news of the order (an ack or an update already showed it) was believed, and the
    intent was placed a second time.  Fixed in that session (D24): news the venue gave after
    a question was asked outranks the answer to it."""
    result = run_seed(seed)
    assert result.invariant is None, "\n".join(result.report)


@pytest.mark.parametrize("seed", [2006, 2164])
def test_seeds_2006_2164_modify_churn_no_longer_masks_quiescence(seed: int) -> None:
    """Seeds 2006 and 2164 (the harness): in a fast market every tick re-priced the ladder,
    so some modify was always unanswered and ``converged`` never held within the settle
    phase.  Quiescence now pauses the maker (orders kept) halfway through it (D22)."""
    result = run_seed(seed)
    assert result.invariant is None, "\n".join(result.report)


# Seeds 1004877, 1002048 and 1003238 share one cause (D16, D4): a position snapshot is the
# venue's position *as of* its venue time and already holds the fills still on their way to
# us.  The maker adopted it once the same drift showed twice with no fill counted in between,
# which is exactly what a stream that is seconds behind (or down) looks like; the fills then
# arrived and were counted on top.  Fixed: ``PositionMoves`` (core/reconcile.py) compares our
# position as of the snapshot's time, and a fill from before an adopted snapshot never moves
# the position again.


def test_seed_1004877_fills_on_a_lagging_stream_counted_after_adoption() -> None:
    """Seed 1004877 (latency, stale snapshots, timeouts...): converged failed at quiescence,
    local -900 vs venue -800.  At 129.55 s and 130.55 s two snapshots both said -1100 while the
    FIFO stream was ~4 s behind with -100 lots of fills from before them (venue time 126.8 s
    on); no fill was counted between the looks, so -1100 was adopted at 130.55 s and the
    late fills took it to -1200 (the drift survived the settle: periodic sync every 10 s)."""
    result = run_seed(1004877)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1002048_adopted_position_then_counted_the_fills_in_it() -> None:
    """Seed 1002048 (latency, stale snapshots): local -13047 vs venue -12149.  At 103.69 s and
    104.70 s the venue said -9579 and we had -8108, with -1471 lots of fills on the wire both
    times; -9579 was adopted and those 1,471 lots were counted again when they arrived."""
    result = run_seed(1002048)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1003238_fills_replayed_after_a_disconnect_counted_twice() -> None:
    """Seed 1003238 (latency, disconnect, timeout): local -3854 vs venue +24724.  During an
    outage the stream dropped -28578 lots of fills; two syncs (35.0 s, 36.0 s) both showed the
    drift and -20350 was adopted; on reconnect the venue replayed the fills (snapshot=True, new
    tids to us) and they were counted on top.  The busy market then kept a fill between every
    two looks, so the 28,578-lot error was not corrected for 116 s."""
    result = run_seed(1003238)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1003829_not_found_asked_before_a_snapshot_listed_the_order() -> None:
    """Seed 1003829 (latency, late answers, timeouts): one_venue_order_per_intent at
    t=122.18 s, venue oids 100986 and 100992 both on ask level 2.  Batch 906 (120.20 s) modifies
    ask level 2 into cloid ..463; its request takes 1.2 s and reaches the venue at 121.43 s.
    The answer timeout (1 s) fires at 121.20 s and the maker asks for ..463 by cloid; that
    query overtakes batch 906, so the venue truthfully says "unknownOid", and the answer lands
    late, at 122.08 s.  Meanwhile a sync taken at 121.47 s lists ..463 resting as oid 100986
    (121.53 s), then its ack (122.00 s) and update (122.03 s) arrive.  The snapshot ended the
    maker's query bookkeeping although that query was still unanswered, so the stale "not
    found" was believed (older than the 0.5 s grace period): ..463 went CancelConfirmed, ask
    level 2 was placed again as ..474 (122.10 s, oid 100992) beside it.  Fixed: the maker keeps
    every status query whose answer may still arrive, and a "not found" is not believed while
    one of them left before the venue first showed us the order (D24)."""
    result = run_seed(1003829)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1024197_quiescence_judged_while_a_lagging_stream_still_carried_fills() -> None:
    """Seed 1024197 (latency, stale snapshots, disconnect, timeouts, lost requests): converged
    failed at 150 s, local -26331 vs venue -22677 and oid 100564 a ghost.  Not a maker bug: the
    maker was paused with its orders resting, takers kept filling them, and the stream was up
    to 3.8 s behind, so at every 0.25 s sample from 135 s to 150 s some fills were still on the
    wire (22 at the end; the order had filled at the venue, its last fills not yet delivered).
    Fixed in the swarm: quiescence also calms the market (``SimExchange.calm_market``), so
    what is in flight drains and belief is compared with the venue exactly."""
    result = run_seed(1024197)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1033300_late_snapshot_resurrected_an_order_we_had_forgotten() -> None:
    """Seed 1033300 (latency, late answers; shrunk: mixed rejects not needed): order_state_sound
    at 52.33 s, order ...95 went Cancelled -> Resting.  It was cancelled at venue time 41.48 s,
    Cancelled at 42 s and pruned at 52 s (terminal_retention_s 10); at 52.25 s the answer to a
    sync from venue time 41.27 s arrived, 11 s late, still listing it.  The maker no longer knew
    the order, took it for a stranger and (unknown_orders = "adopt") adopted it: a ghost order,
    resurrected.  Fixed: the tracker remembers pruned orders' ids (``FORGOTTEN_HORIZON_S``), and
    a snapshot that lists one gets a cancel, never an adoption (D1, D9)."""
    result = run_seed(1033300)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1038750_a_placement_given_up_on_rested_beside_its_successor() -> None:
    """Seed 1038750 (latency, late answers, disconnect, mixed rejects; shrinking kept all four):
    one_venue_order_per_intent at 89.66 s, oids 100643 and 100654 both for ask level 3.  Batch
    299 left at 74.25 s and reached the venue at 88.83 s, 14.6 s later; four queries in between
    all said "not found", the request lifetime (10 s) passed and the order was marked never
    placed.  Its ack arrived at 89.30 s and was ignored as news for a rejected order; at 89.40 s
    the freed intent was placed again, and both rested.  Fixed: such an order is tracked again
    as a stray of its intent (which stays occupied) and cancelled at once (D22, D24)."""
    result = run_seed(1038750)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1052759_a_placement_arriving_after_its_lifetime_rested_beside_its_successor() -> None:
    """Seed 1052759 (latency, disconnect, timeouts, lost requests; shrunk: mixed rejects not
    needed): one_venue_order_per_intent at 30.11 s, oids 100055 and 100056 for bid level 0.
    Batch 72 reached the venue long after its request lifetime; the maker had believed it never
    placed and quoted the intent again (100055).  The stray fix cancelled the late order at
    once, but both had rested for a moment, which no client can prevent once the venue executes
    a request that late.  Fixed at the source: placement batches expire at the venue
    (``Batch.expires_in``, Hyperliquid's ``expiresAfter``) after half the request lifetime."""
    result = run_seed(1052759)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1200851_a_repeated_not_found_ended_a_resting_order() -> None:
    """Seed 1200851 (latency, 429 storms, duplicated answers): one_venue_order_per_intent at
    t=63.33 s.  A modify's replacement was asked about before the modify reached the venue;
    the truthful "unknownOid" came back after the modify's ack had shown the order, so it was
    rightly not believed (D24) -- but the adversary delivered that answer twice, and the copy,
    matching no query still waiting, was believed: the resting order was taken for gone and
    its intent placed again beside it.  Fixed: a "not found" no query waits for is asked
    about again, never believed (D24, D35)."""
    result = run_seed(1200851)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1301064_a_fill_lost_at_the_end_of_the_faults_needs_a_sync_to_be_found() -> None:
    """Seed 1301064 (fills lost, sync every 30 s): converged at t=150 s, local 3648 lots,
    venue 4615.  Two causes.  A drift seen while a fill fetch was on its way was closed by that
    fetch's answer although the fetch had not looked for it (fixed: ``FillGaps`` counts only
    gaps noted before the fetch went out, D33).  And fills lost just before the faults ended,
    parts of resting orders with no status to reveal them, can only be found by the next
    periodic sync (30 s) and a second look: the settle phase was 30 s.  It now leaves room
    for both when fills can be lost (``scenario.FOUND_BY_SYNC_S``)."""
    result = run_seed(1301064)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1319955_an_ack_overtaken_by_its_filled_update_counted_nothing() -> None:
    """Seed 1319955 (fills delayed and lost, stale snapshots, timeouts, lost requests; shrunk:
    venue cancels not needed), found by the 50,000-seed run of issue 14: prompt_convergence at
    77 s, local -8676 lots, venue -1324.  A recovery IOC's "filled" update overtook its ack
    (D10); the ack's filled=3676 was then ignored because the order was already finished, and
    the trade's fill was lost: an IOC's "filled" names no amount, so no fill gap opened either.
    The next IOC repeated it, and the third was refused "Reduce only order would increase
    position".  Fixed: an ack counts what traded at once whatever the stream said first (D4)."""
    result = run_seed(1319955)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1325940_back_to_back_storms_hide_an_order_s_end() -> None:
    """Seed 1325940 (429 storms on queries and syncs, venue cancels, malformed rows, unknown
    statuses), found by the 50,000-seed run of issue 14 (session 2026-12-06): prompt_convergence
    at 72 s, an order shown Resting 23 s after the venue took it down.  Storms followed each
    other from 48.7 s to 73 s; every status query and sync in them was answered 429, and the
    news of the cancel was lost, so no maker could have known.  The maker was right; the
    invariant's orphan and ghost clocks now wait out a storm, as the kill's and the news'
    clocks already did (D29)."""
    result = run_seed(1325940)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_1328989_an_unknown_status_answer_made_a_stale_not_found_believable() -> None:
    """Seed 1328989 (latency, disconnects, lost requests, unknown statuses; shrunk: no storms
    or malformed rows needed), found by issue 14's 50,000-seed run (session 2026-12-06):
    one_venue_order_per_intent at 41 s.  A bid's placement was slow; the first status query
    was answered with an unknown status, which the tracker took as the venue's first sight of
    the order; the second query's "not found" (sent before the ack) then looked newer than the
    venue's news and was believed, and the intent was placed again beside the live order
    (D22).  Fixed: a status we do not know proves nothing (D6, D24)."""
    result = run_seed(1328989)
    assert result.invariant is None, "\n".join(result.report)


@pytest.mark.parametrize("seed", [2006, 1070])
def test_seeds_2006_1070_net_pnl_and_liquidation_invariants_D36_D41(seed: int) -> None:
    """Seed 2006 (this issue's first draft): a fill row unreadable, two fills lost, and the
    venue's average entry moved while the position came back to ours: the next fill's
    ``closedPnl`` disagreed with our books -- true news, not a false alarm, which
    ``net_pnl_agrees`` now tells apart by asking the exchange whether a fill was uncounted.
    Seed 1070: a thin account liquidated while the engine was HALTED (which shows above
    KILLED); the kill was latched all along, and ``liquidation_kills`` checks the latch."""
    result = run_seed(seed)
    assert result.invariant is None, "\n".join(result.report)


def test_seed_3055_closed_pnl_written_while_a_trade_pended_that_then_failed_D36_D38(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seed 3055 with every seed a binary market (found by this session's 300-seed binary
    sweep): net_pnl_agrees at 31.4 s -- closed PnL +0.075 by our books, +0.050 by the venue.
    The venue wrote a fill's closedPnl at the match on an entry that still held a trade pending
    then; that trade FAILED and was reversed before the fill reached us (a disconnect, a 429
    storm), so our entry no longer held it.  Fixed: after a reversal no closedPnl is compared
    until both books are flat before the same fill or the venue's position is adopted."""
    monkeypatch.setattr(scenario, "BINARY_SHARE", 1.0)
    result = run_seed(3055)
    assert result.invariant is None, "\n".join(result.report)
