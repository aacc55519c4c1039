"""Load the committed JS reference vectors (tests/vectors/reference.json) by section."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PATH = Path(__file__).resolve().parent / "vectors" / "reference.json"
SHARED_VECTORS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "vectors"


@cache
def _all() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_PATH.read_text())
    return data


def section(name: str) -> Any:
    return _all()[name]
