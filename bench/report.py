"""Plot the scale curves: ``python -m bench.report ROWS.jsonl -o OUT.png`` (``make bench-report``).

Reads the JSON lines ``python -m bench`` prints, keeps the rows named ``scale_<curve>_n<N>`` and
draws one panel per curve, hyperpunch and JS against N on log-log axes, with a dotted line of
linear growth (or, for per-operation figures, a flat line) through hyperpunch's first point for
reference. Needs matplotlib (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

ROW_NAME = re.compile(r"^scale_(?P<curve>.+)_n(?P<n>\d+)$")

TITLES = {
    "open_replicate_cores": ("open + replicate N cores of one store", "cores in the store", "linear"),
    "get_local_blocks": ("local get of a random block", "blocks in the core", "flat"),
    "get_remote_blocks": (
        "remote get of a random block (request, proof, verify)",
        "blocks in the core",
        "flat",
    ),
    "rss_per_open_core": ("resident memory per open core", "open cores", "flat"),
    "loop_stall_peers": ("worst event-loop stall while peers download", "peers", "flat"),
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
        ref = [y0 * x / xs[0] for x in xs] if shape == "linear" else [y0] * len(xs)
        ax.plot(xs, ref, ":", color="grey", label=f"{shape} from first point")
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
