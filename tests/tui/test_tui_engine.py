"""Deterministic views for the console tests: the real maker against the embedded exchange in
virtual time (``SimLoop``), advanced to a fixed moment; no threads, no wall clock.

``Engine`` is what the console tests drive: ``latest_view`` is the app's view source and
``operate`` runs an action on the maker at the current virtual time and submits its batches to
the exchange, recording every command that reached the venue.  The tests at the bottom check
the builder itself (same seed, same picture).
"""

from __future__ import annotations

from typing import Any

from core.actions import Action, Kill, Pause
from core.clock import VirtualClock
from core.commands import Batch, Command
from core.config import Config
from core.events import PlaceRejected, RejectionClass, Side
from core.harness.loop import SimLoop
from core.maker import MakerParams, MarketMaker
from core.recovery import RecoveryState
from core.simconfig import FaultConfig, SimConfig
from core.venues.sim.exchange import SimExchange
from core.view import ConsoleView, Mode

SEED = 7


class Engine:
    def __init__(
        self,
        *,
        seed: int = SEED,
        config: dict[str, Any] | None = None,
        sim: dict[str, Any] | None = None,
        faults: str = "instant",
        **fault_overrides: Any,
    ) -> None:
        self.config = Config.model_validate(config or {})
        sim_config = SimConfig(
            seed=seed,
            faults=FaultConfig.profile(faults, **fault_overrides),  # type: ignore[arg-type]
            **(sim or {}),
        )
        self.exchange = SimExchange(sim_config)
        inst = sim_config.instrument()
        params = MakerParams.from_config(self.config, inst, live=False)
        self.maker = MarketMaker(params, inst, venue="sim (ETH)", cloid_prefix=seed)
        self.clock = VirtualClock()
        self.sent: list[Command] = []
        self.loop = SimLoop(self.exchange, _Recorder(self), self.clock, tick_interval=0.1)
        self._submit(self.maker.start(self.clock.now()))
        self.actions: list[Action] = []
        self.stops: list[str] = []
        self._view: ConsoleView | None = None

    def run_until(self, t: float) -> Engine:
        self.loop.run_until(t)
        self._view = None
        return self

    def latest_view(self) -> ConsoleView:
        if self._view is None:
            self._view = self.maker.view(self.clock.now())
        return self._view

    def operate(self, action: Action) -> None:
        self.actions.append(action)
        self._submit(self.maker.operate(action, self.clock.now()))
        self._view = None

    def request_stop(self, reason: str) -> None:
        self.stops.append(reason)

    def _submit(self, batches: list[Batch]) -> None:
        for batch in batches:
            self.sent.extend(batch.commands)
            self.exchange.submit(batch, self.clock.now())


class _Recorder:
    """The maker as the loop's agent, with every command it sends recorded."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def handle(self, event: Any, now: float) -> list[Batch]:
        return self._record(self.engine.maker.handle(event, now))

    def tick(self, now: float) -> list[Batch]:
        return self._record(self.engine.maker.tick(now))

    def _record(self, batches: list[Batch]) -> list[Batch]:
        for batch in batches:
            self.engine.sent.extend(batch.commands)
        return batches


# ---- the states the snapshots show ------------------------------------------------------


def quoting() -> Engine:
    return Engine().run_until(30.0)


def paused() -> Engine:
    engine = quoting()
    engine.operate(Pause(cancel_orders=False))
    return engine.run_until(31.0)


def killed() -> Engine:
    engine = quoting()
    engine.operate(Kill("operator key"))
    return engine.run_until(32.0)


def backoff() -> Engine:
    """A 429 storm: both sides backing off with a countdown."""
    return Engine(faults="calm", rate_limit_storms_at=(20.0,), rate_limit_storm_s=10.0).run_until(
        23.0
    )


def binary() -> Engine:
    """Issue 21: a Polymarket-style outcome share -- prices within 0..1 on a 0.01 grid, fills
    pending until the venue settles them (slowly here), four in ten FAILED and reversed, the
    dead-man switch armed."""
    engine = Engine(
        seed=7,
        config={
            "sim": {"market": "binary"},
            "market": {"symbol": "YES"},
            "strategy": {"size": "10", "half_spread_ticks": 100, "level_spacing_ticks": 100},
            "risk": {"max_position": "60", "max_notional": "100", "loss_limit": "50"},
        },
        sim={
            "market": "binary",
            "start_position": "20",
            "settlement": {"delay_s": 15.0, "fail_probability": 0.4},
        },
    )
    return engine.run_until(40.0)


def breached() -> Engine:
    """The account starts 1.5 long against a 1.0 limit: worst case beyond the limit."""
    engine = Engine(config={"risk": {"max_position": "1"}})
    engine.exchange.set_position(15000)
    return engine.run_until(8.0)


def recovering() -> Engine:
    """Over the limit and every reduce-only ask rejected: recovery arms, its IOC fills in part
    against a thin book and it cools down before the next one."""
    engine = Engine(
        config={"risk": {"max_position": "1"}, "recovery": {"cooldown_s": 30.0}},
        sim={"flow": {"level_size": "0.05"}},  # a thin book: the IOC fills only in part
    )
    engine.exchange.set_position(15000)
    engine.run_until(3.0)
    for _ in range(4):
        for cmd in list(engine.sent):
            if getattr(cmd, "reduce_only", False) and getattr(cmd, "side", None) is Side.ASK:
                engine.maker.handle(
                    PlaceRejected(
                        cmd.cloid,  # type: ignore[attr-defined]
                        "Order has invalid size.",
                        RejectionClass.OTHER,
                    ),
                    engine.clock.now(),
                )
        engine.sent.clear()
        engine.run_until(engine.clock.now() + 0.5)
    return engine


def test_same_seed_same_view() -> None:
    a, b = quoting().latest_view(), quoting().latest_view()
    assert a.mode is Mode.RUNNING
    assert a.orders == b.orders and a.fills == b.fills and a.bids == b.bids


def test_states_are_what_their_names_say() -> None:
    assert paused().latest_view().mode is Mode.PAUSED
    assert killed().latest_view().mode is Mode.KILLED
    assert any(b.remaining > 0 for b in backoff().latest_view().backoff)
    assert breached().latest_view().exposure.breached
    assert recovering().latest_view().recovery.state is not RecoveryState.IDLE
