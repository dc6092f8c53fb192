"""The dead-man switch's lapse by silence (D40): once armed, no heartbeat answered within the
venue's window is said at once -- every order is presumed gone -- and a later answer re-arms.
The venue's REST is replaced by a script; time is real but short (waits are on conditions)."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from core.clock import WallClock
from core.events import HeartbeatState
from core.venues.keys import PrivateKey
from core.venues.polymarket import venue as venue_module
from core.venues.polymarket.auth import ApiCredentials
from core.venues.polymarket.rest import RestUnknown
from core.venues.polymarket.signing import PmSigner
from core.venues.polymarket.venue import PmSettings, PolymarketVenue
from tests.venues.test_pm_mapping import MARKET

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


class ScriptedRest:
    """Answers the first heartbeat, then none for ``silent`` calls, then answers again."""

    calls: ClassVar[list[str]] = []
    silent = 4

    def __init__(self, *args: Any, **kw: Any) -> None:
        self.creds: ApiCredentials | None = None

    async def private(self, method: str, path: str, **kw: Any) -> Any:
        sent = kw["body"]["heartbeat_id"]
        ScriptedRest.calls.append(sent)
        n = len(ScriptedRest.calls)
        if 1 < n <= 1 + ScriptedRest.silent:
            raise RestUnknown("no answer in time")
        return {"heartbeat_id": f"h{n}"}

    async def aclose(self) -> None:
        return None


def test_silence_past_the_window_is_a_lapse_then_rearmed_D40(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(venue_module, "PmRest", ScriptedRest)
    ScriptedRest.calls = []
    settings = PmSettings.loopback("http://127.0.0.1:1", heartbeat_s=0.05, heartbeat_window_s=0.15)
    venue = PolymarketVenue(
        MARKET,
        PmSigner(PrivateKey(KEY)),
        settings,
        WallClock(),
        creds=ApiCredentials("k", "AAAA", "p"),
    )

    async def main() -> list[HeartbeatState]:
        task = asyncio.create_task(venue._heartbeats(0.05, 0.15))
        states: list[HeartbeatState] = []
        async with asyncio.timeout(5):
            while len(states) < 3:
                event = await venue._queue.get()
                if isinstance(event, HeartbeatState):
                    states.append(event)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return states

    armed, lapsed, rearmed = asyncio.run(main())
    assert armed.armed and not armed.lapsed
    assert lapsed.lapsed and not lapsed.armed and "no heartbeat answered" in lapsed.text
    assert rearmed.armed and not rearmed.lapsed
    assert ScriptedRest.calls[:2] == ["", "h1"]  # the id chains from the venue's answer
    assert venue.counters["heartbeat_lapses"] == 1
