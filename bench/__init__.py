"""Benchmarks: each workload runs on hyperpunch and on the pinned JS reference in the same run.

A workload module in this package defines ``WORKLOADS: list[Workload]``. The Python side is a
callable returning the measured figure; the JS side is ``interop/bench/<script>`` which prints one
JSON object ``{"value": <figure>}`` on its last stdout line. ``python -m bench`` prints one JSON
object per workload: ``{"name", "unit", "hyperpunch", "js", "ratio"}`` where ``ratio`` > 1 means
hyperpunch is ahead (throughput: py/js; latency or time: js/py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Workload:
    name: str
    unit: str
    higher_is_better: bool
    run_python: Callable[[], float] | Callable[[], Awaitable[float]]
    js_script: str
    js_args: list[str] = field(default_factory=list)

    def ratio(self, hyperpunch: float, js: float) -> float:
        if self.higher_is_better:
            return hyperpunch / js if js else float("inf")
        return js / hyperpunch if hyperpunch else float("inf")
