"""Plot the scale curves: ``python -m bench.report ROWS.jsonl -o OUT.png`` (``make bench-report``).

Reads the JSON lines ``python -m bench`` prints, keeps the rows named ``scale_<curve>_n<N>`` and
draws one panel per curve: hyperpunch and JS against N (log x axis), with a dotted reference
through hyperpunch's first point (growth in N for totals, log N for proofs, constant for
per-operation figures); ``open_replicate_cores`` also gets a derived time-per-core panel.
Needs matplotlib (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import defaultdict
from pathlib import Path

ROW_NAME = re.compile(r"^scale_(?P<curve>.+)_n(?P<n>\d+)$")

# curve -> (title, x label, reference shape drawn through hyperpunch's first point)
TITLES = {
    "open_replicate_cores": ("open + replicate N cores of one store", "cores in the store", "linear"),
    "open_replicate_cores_per_core": ("open + replicate: time per core", "cores in the store", "flat"),
    "get_local_blocks": ("local get of a random block", "blocks in the core", "flat"),
    "get_remote_blocks": (
        "remote get of a random block (request, proof, verify)",
        "blocks in the core",
        "log",
    ),
    "rss_per_open_core": ("resident memory per open core", "open cores", "flat"),
    "loop_stall_peers": ("worst event-loop stall while N peers download", "peers", "none"),
}


def load(paths: list[Path]) -> dict[str, list[dict[str, float | str]]]:
    curves: dict[str, list[dict[str, float | str]]] = defaultdict(list)
    for path in paths:
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            m = ROW_NAME.match(str(row.get("name", "")))
            if m is None:
                continue
            curves[m["curve"]].append({**row, "n": int(m["n"])})
    for rows in curves.values():
        rows.sort(key=lambda r: float(r["n"]))
    total = curves.get("open_replicate_cores")
    if total:  # derived: milliseconds per core (flat means linear growth)
        curves["open_replicate_cores_per_core"] = [
            {
                **r,
                "unit": "ms/core",
                "hyperpunch": float(r["hyperpunch"]) * 1000 / float(r["n"]),
                "js": float(r["js"]) * 1000 / float(r["n"]),
            }
            for r in total
        ]
    return dict(curves)


def plot(curves: dict[str, list[dict[str, float | str]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [c for c in TITLES if c in curves] + sorted(c for c in curves if c not in TITLES)
    cols = 2 if len(names) > 1 else 1
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.4 * cols, 4.4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        data = curves[name]
        title, xlabel, shape = TITLES.get(name, (name, "N", "flat"))
        xs = [float(r["n"]) for r in data]
        unit = str(data[0]["unit"])
        for side, style in (("hyperpunch", "o-"), ("js", "s--")):
            ys = [float(r[side]) for r in data]
            ax.plot(xs, ys, style, label=side)
            for x, y in zip(xs, ys, strict=True):
                ax.annotate(f"{y:.3g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        y0 = float(data[0]["hyperpunch"])
        if shape == "linear":
            ref: list[float] | None = [y0 * x / xs[0] for x in xs]
        elif shape == "log":
            ref = [y0 * math.log2(x) / math.log2(xs[0]) for x in xs]
        elif shape == "flat":
            ref = [y0] * len(xs)
        else:
            ref = None
        if ref is not None:
            label = {"log": "∝ log N", "linear": "∝ N", "flat": "constant"}[shape]
            ax.plot(xs, ref, ":", color="grey", label=f"{label} from first point")
        ax.set_xscale("log")
        if len(xs) > 1 and shape == "linear":
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{unit} (lower is better)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.suptitle("hyperpunch vs JS: scale curves (make bench-report)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("rows", nargs="+", type=Path, help="JSON lines printed by python -m bench")
    parser.add_argument("-o", "--output", type=Path, default=Path("build/bench/scale.png"))
    args = parser.parse_args()
    curves = load(args.rows)
    if not curves:
        print("no scale_*_n<N> rows found")
        return 1
    plot(curves, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
