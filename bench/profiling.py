"""``python -m bench --only NAME --profile N``: one Python-side run of each chosen workload under
cProfile, reported on stderr (stdout keeps the JSON lines; no JS run, no ratio).

Two tables: the ``N`` functions with the most own time, then own time summed per hyperpunch layer
(``dht_rpc``, ``udx``, ...), per ``asyncio``, per generated schema codec and per C function, which
shows at a glance whether a workload is bound by our code, by the event loop or by C calls such as
crypto and syscalls. Profiling slows Python code several times over and C code not at all, so read
the shares, not the absolute times.
"""

from __future__ import annotations

import collections
import cProfile
import io
import pstats
from collections.abc import Callable


def _group(filename: str, func: str) -> str:
    if "/hyperpunch/" in filename:
        return "hyperpunch." + filename.rsplit("/hyperpunch/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if filename.startswith("<schema "):
        return filename.strip("<>")
    if filename == "~":
        return "C: " + func
    if "/asyncio/" in filename:
        return "asyncio"
    return filename.rsplit("/", 1)[-1]


def by_group(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own time summed per group, largest first."""
    totals: collections.Counter[str] = collections.Counter()
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        totals[_group(filename, func)] += tottime
    return totals.most_common()


def profile(run: Callable[[], float], top: int) -> tuple[float, str]:
    """Run ``run`` once under cProfile; its figure and the report text."""
    prof = cProfile.Profile()
    figure = prof.runcall(run)
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    groups = by_group(stats)
    total = sum(t for _, t in groups) or 1.0
    out.write("own time per group:\n")
    for name, t in groups[:top]:
        out.write(f"  {t:9.3f} s  {100 * t / total:5.1f} %  {name}\n")
    return figure, out.getvalue()
