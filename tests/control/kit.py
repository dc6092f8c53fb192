"""What the control tests share: attaching and waiting on the view stream, never sleeping."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.control.client import ControlClient
from core.view import Mode

WAIT = 30.0


def attach(path: Path, **kw: bool) -> ControlClient:
    client = ControlClient.attach(path, **kw)
    assert client.wait_for(lambda c: c.latest_view is not None, WAIT), client.lost
    return client


def mode_is(mode: Mode) -> Callable[[ControlClient], bool]:
    return lambda c: c.latest_view is not None and c.latest_view.mode is mode
