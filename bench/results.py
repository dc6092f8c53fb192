"""Benchmark results: samples, their median and spread, and the target they are judged by.

Absolute times on a shared 2-core machine are noisy, so every figure is a median over repeated
runs with its spread (min..max), and comparisons are ratios measured in the same run.  This
module also describes the machine (for ``RESULTS.md``) and renders the table.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    samples: list[float]
    unit: str
    target: tuple[str, float] | None = None  # (">=" | "<=", value)
    note: str = ""
    skipped: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @classmethod
    def skipped_because(cls, name: str, reason: str) -> Result:
        return cls(name, [], "", skipped=reason)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def met(self) -> bool | None:
        if self.target is None or not self.samples:
            return None
        op, value = self.target
        return self.median >= value if op == ">=" else self.median <= value

    @staticmethod
    def _fmt(x: float) -> str:
        if x != x:  # NaN
            return "nan"
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        if abs(x) >= 10:
            return f"{x:.1f}"
        return f"{x:.3g}"

    def median_text(self) -> str:
        if self.skipped:
            return "skipped"
        return f"{self._fmt(self.median)} {self.unit}".strip()

    def spread_text(self) -> str:
        if self.skipped or len(self.samples) < 2:
            return "" if self.skipped else "n=1"
        lo, hi = min(self.samples), max(self.samples)
        return f"{self._fmt(lo)}..{self._fmt(hi)} (n={len(self.samples)})"

    def target_text(self) -> str:
        if self.target is None:
            return ""
        op, value = self.target
        return f"{op} {self._fmt(value)} {self.unit}".strip()

    def verdict(self) -> str:
        if self.skipped:
            return "skipped"
        met = self.met
        if met is None:
            return ""
        return "met" if met else "MISSED"

    def figure(self) -> str:
        spread = self.spread_text()
        return f"{self.median_text()} ({spread})" if spread else self.median_text()

    def line(self) -> str:
        if self.skipped:
            return f"{self.name:46s} skipped: {self.skipped}"
        target = self.target_text()
        verdict = f"{self.verdict()} (target {target})" if target else ""
        note = f"  [{self.note}]" if self.note else ""
        return f"{self.name:46s} {self.figure():48s} {verdict}{note}"


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile by nearest rank (q=0.99: the value 99% of samples do not exceed)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


# ---- rendering ------------------------------------------------------------------------------

_HEADER = ("benchmark", "median", "spread (min..max)", "target", "verdict")


def table(results: Iterable[Result]) -> list[str]:
    """Plain-text table for the terminal."""
    rows = [_HEADER]
    notes: list[str] = []
    for r in results:
        if r.skipped:
            rows.append((r.name, "skipped", "", "", ""))
            notes.append(f"{r.name}: {r.skipped}")
            continue
        rows.append((r.name, r.median_text(), r.spread_text(), r.target_text(), r.verdict()))
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    out.extend(f"note: {n}" for n in notes)
    return out


def markdown_table(results: Iterable[Result]) -> list[str]:
    out = ["| " + " | ".join(_HEADER) + " | notes |", "|" + "---|" * (len(_HEADER) + 1)]
    for r in results:
        if r.skipped:
            out.append(f"| {r.name} | skipped | | | | {r.skipped} |")
            continue
        verdict = f"**{r.verdict()}**" if r.verdict() == "MISSED" else r.verdict()
        cells = (r.name, r.median_text(), r.spread_text(), r.target_text(), verdict, r.note)
        out.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return out


# ---- the machine ------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} logical, {usable} usable by this process",
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "os": f"{platform.system()} {platform.release()}",
        "load average (1/5/15 min) at start": load_average(),
        "textual": _version("textual"),
        "nautilus_trader": _version("nautilus_trader"),
    }


def quick_main(doc: str, run: Callable[[bool], list[Result]]) -> None:
    """``python -m bench.bench_X [--quick]``: run one benchmark file and print its table."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print("\n".join(table(run(parser.parse_args().quick))))
