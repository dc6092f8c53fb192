"""Seeds the swarm found failing, kept as regression tests (issue 6, D22).

Each test replays one seed exactly (``mm-console swarm --seeds 1 --start SEED --trace`` shows
the whole run) and states the invariant it broke and why.
"""

from __future__ import annotations

from core.sim.swarm import run_seed


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
