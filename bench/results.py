"""Benchmark results: samples, their median and spread, and the target they are judged by.

Absolute times on a shared 2-core machine are noisy, so every figure is a median over repeated
runs with its spread (min..max), and comparisons are ratios measured in the same run.
"""

from __future__ import annotations

import statistics
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

    def _fmt(self, x: float) -> str:
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        if abs(x) >= 10:
            return f"{x:.1f}"
        return f"{x:.3g}"

    def figure(self) -> str:
        if self.skipped:
            return "skipped"
        med = self._fmt(self.median)
        if len(self.samples) > 1:
            lo, hi = min(self.samples), max(self.samples)
            return f"{med} {self.unit} ({self._fmt(lo)}..{self._fmt(hi)}, n={len(self.samples)})"
        return f"{med} {self.unit}"

    def verdict(self) -> str:
        if self.skipped:
            return self.skipped
        met = self.met
        if met is None:
            return ""
        op, value = self.target  # type: ignore[misc]
        return f"{'met' if met else 'MISSED'} (target {op} {self._fmt(value)} {self.unit})"

    def line(self) -> str:
        verdict = self.verdict()
        note = f"  [{self.note}]" if self.note else ""
        return f"{self.name:45s} {self.figure():45s} {verdict}{note}"
