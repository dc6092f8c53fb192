"""A rich progress bar for ``mm-console swarm`` (the CLI imports it lazily; core never does).

The swarm itself prints plain text (``core.harness.swarm.render_summary``); this only draws the
bar on stderr while seeds complete, with the running count of violations.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from core.harness.swarm import SeedResult


def progress_bar(total: int) -> tuple[Callable[[SeedResult], None], Callable[[], None]]:
    """``(on_result, finish)``: advance the bar once per seed; stop drawing it."""
    progress = Progress(
        TextColumn("swarm"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[violations]} violations"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = progress.add_task("swarm", total=total, violations=0)
    violations = 0
    progress.start()

    def on_result(result: SeedResult) -> None:
        nonlocal violations
        if result.invariant is not None:
            violations += 1
        progress.update(task, advance=1, violations=violations)

    return on_result, progress.stop
