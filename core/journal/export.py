"""``mm-console journal ls | show | fills | orders``: a journal read for people.

Post-mortems want the session at a glance (``show``: what ran, how long, how it ended, then
the inputs as lines); accounting wants rows (``fills`` and ``orders`` as CSV).  Everything is
read from the journal's own records -- the events the venue sent and the batches the maker
returned -- never from a replay, so an export works even for a journal this build could not
replay.  Prices and sizes are the venue's decimals (the instrument recorded at start), times
UTC.

Fills are listed once per trade id, in the order they first arrived (the venue repeats fills
after a reconnect; D4); history the venue replays at connect that traded before the session
began is another session's and is left out.  Fees are not in the venue's fill events yet
(issue 19): the column is there and empty.  Orders are every placement and modify the maker
sent, with what the venue said of each: its oid, the last status, how much filled and at what
average price.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from core.commands import Batch, Modify, Place
from core.events import (
    CancelAck,
    CancelRejected,
    Fill,
    ModifyAck,
    ModifyRejected,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
)
from core.journal import codec
from core.journal.files import journals_in
from core.journal.meta import recipe_from
from core.journal.store import InputRow, JournalError, JournalReader
from core.units import Instrument

FILL_COLUMNS = (
    "time_utc",
    "side",
    "price",
    "size",
    "fee",
    "tid",
    "oid",
    "cloid",
    "liquidity",
    "venue_time",
    "replayed",
)
ORDER_COLUMNS = (
    "sent_utc",
    "cloid",
    "oid",
    "kind",
    "side",
    "price",
    "size",
    "tif",
    "reduce_only",
    "level",
    "status",
    "filled",
    "avg_fill_price",
    "last_utc",
    "reason",
)


def utc(t: float | None) -> str:
    if t is None:
        return ""
    whole = int(t)
    millis = round((t - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def instrument_of(reader: JournalReader) -> Instrument:
    """The recorded instrument, once the records are known to be readable by this version."""
    reader.require_layout()
    return recipe_from(reader.meta, str(reader.path)).instrument


# ---- ls ----------------------------------------------------------------------------------


def ls_lines(directory: Path) -> list[str]:
    files = journals_in(directory)
    if not files:
        return [f"no journals in {directory}"]
    lines = [f"{'journal':58} {'size':>9} {'inputs':>9} {'length':>9}  ended"]
    for path in files:
        try:
            with JournalReader(path) as reader:
                count = reader.count()
                span = _span(reader)
                size = reader.size_bytes()
                meta = reader.meta
        except JournalError as exc:
            lines.append(f"{path.name:58} unreadable: {exc}")
            continue
        ended = meta.get("reason") or ("—" if "ended_wall" in meta else "did not end cleanly")
        lines.append(f"{path.name:58} {_mb(size):>9} {count:>9,} {span:>8.0f}s  {ended}")
    return lines


def _span(reader: JournalReader) -> float:
    span = reader.span()
    return 0.0 if span is None else span[1] - span[0]


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


# ---- show --------------------------------------------------------------------------------


def show_lines(path: Path, limit: int | None) -> Iterator[str]:
    with JournalReader(path) as reader:
        meta = reader.meta
        inst = instrument_of(reader)
        count = reader.count()
        yield f"journal    {path}"
        yield f"written by mm-console {meta.get('version')} (engine {meta.get('engine')})"
        yield f"venue      {meta.get('venue')}"
        yield f"market     {inst.symbol}: tick {inst.tick_size}, lot {inst.lot_size}"
        if meta.get("seed") is not None:
            yield f"seed       {meta['seed']}"
        yield f"started    {utc(meta.get('started_wall'))}"
        ended = meta.get("ended_wall")
        if ended is None:
            yield "ended      did not end cleanly (killed?): the last inputs may be missing"
        else:
            yield (
                f"ended      {utc(ended)}: {meta.get('reason', '?')} "
                f"(mode {meta.get('mode', '?')}, exit {meta.get('exit_code', '?')})"
            )
        yield f"length     {_span(reader):,.1f} s, {count:,} inputs, {_mb(reader.size_bytes())}"
        kinds = Counter(row.name for row in reader.inputs())
        yield "inputs     " + ", ".join(f"{name} {n:,}" for name, n in kinds.most_common())
        for seq, kind, wall, _name, text in reader.marks():
            yield f"{kind:10} #{seq} {utc(wall)} {text}"
        if limit == 0:
            return
        yield ""
        for n, row in enumerate(reader.inputs(), start=1):
            if limit is not None and n > limit:
                yield f"… {count - limit:,} more (--all lists every input)"
                return
            yield _input_line(row)


def _input_line(row: InputRow) -> str:
    if row.kind == "tick":
        what = "tick"
    elif row.payload is None:
        what = row.name
    else:
        what = repr(codec.from_record(row.payload))
    line = f"#{row.seq:<8} {utc(row.wall)} {row.mono:12.3f} {what}"
    if row.source:
        line += f"  [from {row.source}]"
    if row.raised:
        line += "  [the maker raised]"
    for data in row.batches:
        batch: Batch = codec.from_record(data)
        line += f"\n           -> batch {batch.batch_id}: " + ", ".join(
            repr(c) for c in batch.commands
        )
    return line


# ---- fills -------------------------------------------------------------------------------


def write_fills(path: Path, out: TextIO) -> int:
    with JournalReader(path) as reader:
        inst = instrument_of(reader)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FILL_COLUMNS)
        seen: set[int] = set()
        started = float(reader.meta.get("started_wall") or 0.0)
        for row in reader.inputs():
            if row.name != "Fill" or row.payload is None:
                continue
            fill = codec.from_record(row.payload)
            if fill.tid in seen or _before_the_session(fill, started):
                continue
            seen.add(fill.tid)
            writer.writerow(
                (
                    utc(row.wall),
                    fill.side.value,
                    inst.ticks_to_price(fill.price),
                    inst.lots_to_size(fill.size),
                    "",
                    fill.tid,
                    "" if fill.oid is None else fill.oid,
                    fill.cloid or "",
                    fill.liquidity.value,
                    _venue_time(fill.venue_time),
                    "yes" if fill.snapshot else "",
                )
            )
        return len(seen)


def _before_the_session(fill: Fill, started: float) -> bool:
    """The venue's history replayed at connect (a snapshot) that traded before this session
    began: another session's fill, which its own journal lists.  Only a venue that stamps
    calendar time can tell (the embedded exchange starts with no history)."""
    return fill.snapshot and fill.venue_time is not None and 1e9 < fill.venue_time < started


def _venue_time(t: float | None) -> str:
    """The venue's stamp: UTC when it is calendar time (a real venue), else its seconds (the
    embedded exchange keeps a monotonic clock)."""
    if t is None:
        return ""
    return utc(t) if t > 1e9 else f"{t:.3f}"


# ---- orders ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Order:
    sent: float
    cloid: str
    kind: str
    command: Place | Modify
    oid: int | None = None
    status: str = "sent"
    last: float | None = None
    reason: str = ""
    fills: dict[int, tuple[int, int]] = field(default_factory=dict)  # tid -> (price, size)
    immediate: tuple[int, int] = (0, 0)  # filled lots and value (ticks x lots) from an ack


def write_orders(path: Path, out: TextIO) -> int:
    with JournalReader(path) as reader:
        inst = instrument_of(reader)
        orders: dict[str, _Order] = {}
        by_oid: dict[int, _Order] = {}
        for row in reader.inputs():
            if row.kind == "event" and row.payload is not None:
                _apply(codec.from_record(row.payload), row.wall, orders, by_oid)
            for data in row.batches:
                for command in codec.from_record(data).commands:
                    if isinstance(command, Place | Modify):
                        cloid = command.new_cloid if isinstance(command, Modify) else command.cloid
                        kind = "modify" if isinstance(command, Modify) else "place"
                        orders[cloid] = _Order(row.wall, cloid, kind, command)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(ORDER_COLUMNS)
        for o in orders.values():
            c = o.command
            # An immediate fill is in the ack and, later, in the fills with their trade ids:
            # the fills are the record when they cover it, the ack until they arrive.
            lots = sum(size for _, size in o.fills.values())
            value = sum(price * size for price, size in o.fills.values())
            filled, value = (lots, value) if lots >= o.immediate[0] else o.immediate
            avg = _avg(inst, value, filled)
            writer.writerow(
                (
                    utc(o.sent),
                    o.cloid,
                    "" if o.oid is None else o.oid,
                    o.kind,
                    c.side.value,
                    inst.ticks_to_price(c.price),
                    inst.lots_to_size(c.size),
                    c.tif.value,
                    "yes" if c.reduce_only else "",
                    "" if c.level is None else c.level,
                    o.status,
                    inst.lots_to_size(filled),
                    avg,
                    utc(o.last),
                    o.reason,
                )
            )
        return len(orders)


def _avg(inst: Instrument, value: int, lots: int) -> str:
    if lots <= 0:
        return ""
    ticks = Decimal(value) / Decimal(lots)
    return format((ticks * inst.tick_size).normalize(), "f")  # "3000", never "3E+3"


def _apply(ev: Any, wall: float, orders: dict[str, _Order], by_oid: dict[int, _Order]) -> None:
    cloid = getattr(ev, "cloid", None)
    if isinstance(ev, ModifyAck | ModifyRejected):
        cloid = ev.new_cloid
    order = orders.get(cloid) if cloid else None
    oid = getattr(ev, "oid", None)
    if order is None and oid is not None:
        order = by_oid.get(oid)
    if order is None:
        return
    if oid is not None and order.oid is None:
        order.oid = oid
        by_oid[oid] = order
    order.last = wall
    match ev:
        case PlaceAck() | ModifyAck():
            order.status = ev.status.value
            if ev.filled:
                order.immediate = (ev.filled, ev.filled_value)
        case PlaceRejected() | ModifyRejected():
            order.status = "rejected"
            order.reason = ev.reason
        case OrderUpdate() | OrderStatusReport():
            order.status = ev.status.value
        case CancelAck():
            order.status = "cancel acknowledged"
        case CancelRejected():
            order.reason = ev.reason
        case Fill():
            order.fills.setdefault(ev.tid, (ev.price, ev.size))
