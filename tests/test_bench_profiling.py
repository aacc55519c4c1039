"""bench/profiling.py (``make bench PROFILE=N``): the report names the costliest functions and sums
own time per layer, with generated schema codecs and C functions as groups of their own."""

from __future__ import annotations

from bench import profiling
from bench.bench_encoding import REQUEST, typical

from hyperpunch.encoding import decode, encode


def _work() -> float:
    msg = typical()
    for _ in range(2000):
        assert decode(REQUEST, encode(REQUEST, msg)) == msg
    return 42.0


def test_profile_returns_the_figure_and_a_report_grouped_by_layer() -> None:
    figure, report = profiling.profile(_work, 5)
    assert figure == 42.0
    head, _, groups = report.partition("own time per group:\n")
    assert groups, report
    assert "_from_bytes" in head or "_to_bytes" in head  # the generated codec dominates
    names = [line.split("%", 1)[1].strip() for line in groups.splitlines() if "%" in line]
    assert len(names) == 5
    assert "schema Request" in names
    assert "hyperpunch.encoding" in names
    shares = [float(line.split("s", 1)[1].split("%", 1)[0]) for line in groups.splitlines() if "%" in line]
    assert shares == sorted(shares, reverse=True)
    assert 0.0 < sum(shares) <= 100.5
