"""The deterministic harness.

The virtual-time loop, the swarm's determinism and invariants, every seed that ever failed.
"""
