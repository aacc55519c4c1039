"""Run the benchmark workloads: ``python -m bench [--only SUBSTRING] [--repeat N] [--profile N]``."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import pkgutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench import Figure, Workload, profiling
from hyperpunch.eventloop import loop_name, run

ROOT = Path(__file__).resolve().parent.parent
INTEROP = ROOT / "interop"
DEFAULT_REPEAT = 3


def discover() -> list[Workload]:
    found: list[Workload] = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"bench.{info.name}")
            found.extend(module.WORKLOADS)
    return found


def run_js(workload: Workload) -> float:
    assert workload.js_script is not None
    proc = subprocess.run(
        ["node", str(INTEROP / "bench" / workload.js_script), *workload.js_args],
        capture_output=True,
        text=True,
        cwd=INTEROP,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{workload.js_script} failed:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    extra = {k: float(v) for k, v in out.items() if k != "value" and isinstance(v, int | float)}
    return Figure(float(out["value"]), **extra)


def run_python(workload: Workload) -> float:
    result = workload.run_python()
    if inspect.isawaitable(result):
        return _keep(run(_await(result)))
    return _keep(result)


def _keep(value: float) -> float:
    return value if isinstance(value, Figure) else float(value)


async def _await(aw: object) -> float:
    return _keep(await aw)  # type: ignore[misc]


def _extras(side: str, runs: list[float]) -> dict[str, float]:
    """The median over runs of each extra figure a side reported, as ``<side>_<key>``."""
    keys = sorted({k for r in runs if isinstance(r, Figure) for k in r.extra})
    out: dict[str, float] = {}
    for key in keys:
        values = [r.extra[key] for r in runs if isinstance(r, Figure) and key in r.extra]
        out[f"{side}_{key}"] = round(statistics.median(values), 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--only", default="", help="run only workloads whose name contains this")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of each side, interleaved; the median of each side is reported (default 3, or the"
        " workload's own runs)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="instead of measuring, run the Python side once under cProfile and print the N costliest"
        " functions and the own time per layer on stderr (bench/profiling.py)",
    )
    args = parser.parse_args()
    workloads = [w for w in discover() if args.only in w.name]
    if not workloads:
        print(f"no workload matches {args.only!r}", file=sys.stderr)
        return 1
    if args.profile > 0:
        for workload in workloads:
            figure, report = profiling.profile(lambda w=workload: run_python(w), args.profile)
            print(f"== {workload.name}: {figure:.6g} {workload.unit} (profiled)", file=sys.stderr)
            print(report, file=sys.stderr)
        return 0
    for workload in workloads:
        py_runs: list[float] = []
        js_runs: list[float] = []
        repeat = max(1, args.repeat or workload.runs or DEFAULT_REPEAT)
        for _ in range(repeat):  # interleaved, so background load hits both sides alike
            py_runs.append(run_python(workload))
            if workload.js_script is not None:
                js_runs.append(run_js(workload))
        py = statistics.median(py_runs)
        js = statistics.median(js_runs) if js_runs else None
        row: dict[str, object] = {
            "name": workload.name,
            "unit": workload.unit,
            "hyperpunch": round(py, 3),
            "js": None if js is None else round(js, 3),
            "ratio": None if js is None else round(workload.ratio(py, js), 3),
            "runs": len(py_runs),
            "loop": loop_name(),
            **_extras("hyperpunch", py_runs),
            **_extras("js", js_runs),
        }
        if js is None:
            row["js_missing"] = workload.js_missing or "not measured"
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
