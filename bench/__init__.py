"""Benchmarks: each workload runs on hyperpunch and on the pinned JS reference in the same run.

A workload module in this package defines ``WORKLOADS: list[Workload]``. The Python side is a
callable returning the measured figure; the JS side is ``interop/bench/<script>`` which prints one
JSON object ``{"value": <figure>}`` on its last stdout line. ``python -m bench`` prints one JSON
object per workload: ``{"name", "unit", "hyperpunch", "js", "ratio"}`` where ``ratio`` > 1 means
hyperpunch is ahead (throughput: py/js; latency or time: js/py).

A side may report more than its figure: the JS script as further numeric keys of its JSON line, the
Python side by returning a :class:`Figure` with ``extra``; each shows up in the row as
``hyperpunch_<key>`` / ``js_<key>`` (e.g. a p90 beside a median). ``runs`` sets the interleaved
runs of a workload that is long and already a median of many rounds (``--repeat`` still overrides). A workload whose JS side is
not measured has ``js_script=None`` and says why in ``js_missing``; its row has ``"js": null``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


class Figure(float):
    """A measured figure with extra named figures beside it (``Figure(12.5, p90=20.1)``)."""

    extra: dict[str, float]

    def __new__(cls, value: float, **extra: float) -> Figure:
        self = super().__new__(cls, value)
        self.extra = dict(extra)
        return self


@dataclass(frozen=True)
class Workload:
    name: str
    unit: str
    higher_is_better: bool
    run_python: Callable[[], float] | Callable[[], Awaitable[float]]
    js_script: str | None
    js_args: list[str] = field(default_factory=list)
    runs: int | None = None
    js_missing: str = ""

    def ratio(self, hyperpunch: float, js: float) -> float:
        if self.higher_is_better:
            return hyperpunch / js if js else float("inf")
        return js / hyperpunch if hyperpunch else float("inf")
