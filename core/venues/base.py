"""The Venue protocol: what the async runner needs from any exchange connection.

A venue turns its wire traffic into core ``Event``s and takes core ``Batch``es.  Answers to a
batch never come back from ``submit`` itself: they arrive later on ``events()``, item by item,
each echoing the batch's ``batch_id`` (D7, D12) — exactly like a real exchange, where the answer
races the user stream.  A venue never decides anything for the maker and never shows it a wire
format; error text arrives already classified.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from core.commands import Batch
from core.events import Event


class Venue(Protocol):
    """One connection to one market of one exchange, for one account."""

    name: str

    async def connect(self) -> None:
        """Open the connection; ``Connected`` and a ``BookSnapshot`` follow on ``events()``."""
        ...

    def events(self) -> AsyncIterator[Event]:
        """Everything the venue says, in arrival order; ends after ``close()``."""
        ...

    async def submit(self, batch: Batch) -> None:
        """Send a batch.  Returns once it is on its way; the answers come as events."""
        ...

    async def close(self) -> None:
        """Stop delivering events and release the connection."""
        ...
