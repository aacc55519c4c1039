"""The committed reference vectors must equal what the pinned JS modules print now."""

from __future__ import annotations

import json
import subprocess

from jsref import INTEROP, ROOT, node_binary


def test_reference_vectors_have_not_drifted() -> None:
    proc = subprocess.run(
        [node_binary(), str(INTEROP / "gen-vectors.js")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=INTEROP,
        check=True,
    )
    fresh = json.loads(proc.stdout)
    committed = json.loads((ROOT / "tests" / "vectors" / "reference.json").read_text())
    assert fresh.keys() == committed.keys()
    for section, value in fresh.items():
        assert committed[section] == value, f"vectors section {section!r} drifted: run `make vectors`"
