"""Run the benchmark workloads: ``python -m bench [--only SUBSTRING] [--repeat N]``."""

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

from bench import Workload
from hyperpunch.eventloop import loop_name, run

ROOT = Path(__file__).resolve().parent.parent
INTEROP = ROOT / "interop"


def discover() -> list[Workload]:
    found: list[Workload] = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"bench.{info.name}")
            found.extend(module.WORKLOADS)
    return found


def run_js(workload: Workload) -> float:
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
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["value"])


def run_python(workload: Workload) -> float:
    result = workload.run_python()
    if inspect.isawaitable(result):
        return float(run(_await(result)))
    return float(result)  # type: ignore[arg-type]


async def _await(aw: object) -> float:
    return float(await aw)  # type: ignore[misc]


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--only", default="", help="run only workloads whose name contains this")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each side, interleaved; the median of each side is reported (default 3)",
    )
    args = parser.parse_args()
    workloads = [w for w in discover() if args.only in w.name]
    if not workloads:
        print(f"no workload matches {args.only!r}", file=sys.stderr)
        return 1
    for workload in workloads:
        py_runs: list[float] = []
        js_runs: list[float] = []
        for _ in range(max(1, args.repeat)):  # interleaved, so background load hits both sides alike
            py_runs.append(run_python(workload))
            js_runs.append(run_js(workload))
        py, js = statistics.median(py_runs), statistics.median(js_runs)
        row = {
            "name": workload.name,
            "unit": workload.unit,
            "hyperpunch": round(py, 3),
            "js": round(js, 3),
            "ratio": round(workload.ratio(py, js), 3),
            "runs": len(py_runs),
            "loop": loop_name(),
        }
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
