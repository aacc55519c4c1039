"""hyperpunch.encoding against the compact-encoding-test corpus (tests/conformance/compact-encoding-test).

Formats (fixtures/<codec>/cases.json + answers.json): a case's ``input`` is either ``value`` (encode
it: the answer is ``{"hex"}``, or ``{"refused": true}`` when the encoder must throw) or ``bytes``
(decode them from a state spanning exactly those bytes: ``{"decodes", "read"}`` where ``read`` is
how far the decoder advanced, plus ``bits`` = the re-encoding of a decoded NaN, or
``{"rejects": true}`` when the decoder must throw). A missing ``read`` is not checked. Values use
hex for bytes, "NaN"/"Infinity"/"-0" strings for floats and ``{"units": [...]}`` for a JS string
given as UTF-16 code units. ``mutants.json`` lists wrong readings of a rule: each names a fixture and
the answer that wrong reading would give; an implementation refutes it by answering differently
(and correctly). ``delegated.json``/``unrepresentable.json`` name rules that the corpus leaves to the
reference / that a host's number type may not represent; they need no handling here.

Policy: the pinned JS reference (compact-encoding 3.5.2) wins. Where the stored answers.json
disagrees with it, the case is listed in ``DIVERGENCES`` with the reference's answer (checked live
against node by ``test_reference_agrees_with_answers_except_divergences``).
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from hyperpunch import encoding as c
from hyperpunch.encoding import Codec, DecodeError, EncodeError, State
from jsref import run_node_json

FIXTURES = Path(__file__).resolve().parents[1] / "conformance" / "compact-encoding-test" / "fixtures"

# Corpus codec names hyperpunch implements (cases run for those that have answers).
IMPLEMENTED: dict[str, Codec[Any]] = {
    "uint": c.uint,
    "uint8": c.uint8,
    "uint16": c.uint16,
    "uint24": c.uint24,
    "uint32": c.uint32,
    "uint40": c.uint40,
    "uint48": c.uint48,
    "uint56": c.uint56,
    "uint64": c.uint64,
    "uint32be": c.uint32be,
    "uint64be": c.uint64be,
    "int": c.int_,
    "int8": c.int8,
    "int16": c.int16,
    "int24": c.int24,
    "int32": c.int32,
    "int40": c.int40,
    "int48": c.int48,
    "int56": c.int56,
    "int64": c.int64,
    "bool": c.bool_,
    "float32": c.float32,
    "float64": c.float64,
    "buffer": c.buffer,
    "optionalBuffer": c.optional_buffer,
    "raw": c.raw,
    "uint8array": c.uint8array,
    "uint32array": c.uint32array,
    "utf8": c.utf8,
    "string": c.string,
    "fixed8": c.fixed8,
    "fixed-3": c.fixed(3),
    "fixed-8": c.fixed(8),
    "fixed-16": c.fixed16,
    "fixed-24": c.fixed24,
    "fixed-32": c.fixed32,
    "fixed-64": c.fixed64,
    "array-uint": c.array(c.uint),
    "frame-uint": c.frame(c.uint),
    "record-utf8-uint": c.record(c.utf8, c.uint),
    "stringRecord": c.string_record,
    "ipv4": c.ipv4,
    "ipv4Address": c.ipv4_address,
    "ipv6": c.ipv6,
    "ipv6Address": c.ipv6_address,
    "ip": c.ip,
    "ipAddress": c.ip_address,
    "port": c.port,
}

# Corpus codec names hyperpunch does not implement (no layer of the stack uses them).
SKIPPED = {
    "any": "schema-less JS values; no protocol uses it",
    "date": "JS Date; no protocol uses it",
    "json": "JSON.stringify behind a length; carries JS object semantics",
    "ndjson": "as json",
    "arraybuffer": "JS ArrayBuffer; same wire form as buffer",
    "bigint64array": "BigInt typed array; unused",
    "biguint64array": "BigInt typed array; unused",
    "bitarray": "unused by the stack",
    "float32array": "unused by the stack",
    "float64array": "unused by the stack",
    "int8array": "unused by the stack",
    "int16array": "unused by the stack",
    "int32array": "unused by the stack",
    "uint16array": "unused by the stack",
    "ascii": "unused by the stack",
    "hex": "unused by the stack",
    "base64": "unused by the stack",
    "ucs2": "unused by the stack",
    "utf16le": "unused by the stack",
    "bigint": "BigInt; unused by the stack",
    "bigint64": "BigInt; unused by the stack",
    "biguint": "BigInt; unused by the stack",
    "biguint64": "BigInt; unused by the stack",
    "binary": "string-or-buffer convenience; unused by the stack",
    "none": "writes nothing; unused by the stack",
    "lexint": "unused by the stack",
    "int16be": "not in the JS reference (libcompact only)",
    "int32be": "not in the JS reference (libcompact only)",
    "int64be": "not in the JS reference (libcompact only)",
    "intbe": "not in the JS reference (libcompact only)",
    "uint16be": "not in the JS reference (libcompact only)",
    "uintbe": "not in the JS reference (libcompact only)",
}

# Cases whose stored answer differs from what compact-encoding 3.5.2 does (verified with node):
# 3.5.2 refuses ints outside ±2^52 and rejects unsigned readings above 2^53-1.
DIVERGENCES: dict[str, dict[str, Any]] = {
    "int-past-range": {"refused": True},
    "int-past-range-min": {"refused": True},
    "int64-past-range": {"refused": True},
    "int64-past-range-min": {"refused": True},
    "int64-decode-ceiling": {"rejects": True},
    "int64-ceiling-before-unzigzag": {"rejects": True},
    "uint-decode-ceiling": {"rejects": True},
    "uint56-decode-ceiling": {"rejects": True},
    "uint64be-decode-ceiling": {"rejects": True},
}

# Mutants that describe what the pinned reference itself does, so following it cannot refute
# them (keyed by fixture and the mutant's answer).
UNREFUTABLE_MUTANTS = {
    ("uint64-decode-ceiling", '{"rejects": true}'),
    ("uint64-encode-ceiling", '{"refused": true}'),
    ("int-past-range", '{"refused": true}'),
    ("int-past-range-min", '{"refused": true}'),
    ("int64-ceiling-before-unzigzag", '{"rejects": true}'),
}

# Mutants whose fixture is absent from the stored case files (see PROVENANCE.md).
MISSING_FIXTURES = {"frame-uint-length-past-the-end"}

BYTE_KINDS = {"buffer", "optionalBuffer", "raw", "uint8array", "fixed", "fixed8"}
FLOAT_KINDS = {"float32", "float64"}


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


@cache
def corpus() -> dict[str, dict[str, Any]]:
    """{codec dir: {"doc": cases.json, "answers": answers.json or None}}."""
    out: dict[str, dict[str, Any]] = {}
    for d in sorted(FIXTURES.iterdir()):
        if d.is_dir():
            answers = d / "answers.json"
            out[d.name] = {
                "doc": _load(d / "cases.json"),
                "answers": _load(answers) if answers.exists() else None,
            }
    return out


def corpus_names() -> set[str]:
    names = set(corpus())
    for group in _load(FIXTURES / "index.json").values():
        names.update(group)
    return names


def kind_of(name: str) -> str:
    spec = corpus()[name]["doc"].get("codec")
    return str(spec["name"]) if spec else name


def to_value(kind: str, v: Any) -> Any:
    if v is None:
        return None
    if kind in BYTE_KINDS and isinstance(v, str):
        return bytes.fromhex(v)
    if isinstance(v, dict) and isinstance(v.get("units"), list):
        return "".join(map(chr, v["units"]))
    if kind in FLOAT_KINDS:
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}.get(v, v) * 1.0
    return v


def to_json(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        if v == 0 and math.copysign(1, v) < 0:
            return "-0"
        return v
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    return v


def run_case(codec: Codec[Any], kind: str, inp: dict[str, Any]) -> dict[str, Any]:
    """Our answer to one case, in the corpus's answer format."""
    if "value" in inp:
        try:
            return {"hex": c.encode(codec, to_value(kind, inp["value"])).hex()}
        except EncodeError:
            return {"refused": True}
    data = bytes.fromhex(inp["bytes"])
    state = State(0, len(data), data)
    try:
        value = codec.decode(state)
    except DecodeError:
        return {"rejects": True}
    out = {"decodes": to_json(value), "read": state.start}
    if isinstance(value, float) and math.isnan(value):
        out["bits"] = c.encode(codec, value).hex()
    return out


def matches(ours: dict[str, Any], answer: dict[str, Any]) -> bool:
    """Our full answer agrees with a (possibly partial) corpus answer."""
    kinds = {"hex", "refused", "decodes", "rejects"}
    if set(ours) & kinds != set(answer) & kinds:
        return False
    return all(
        (k in ours and ours[k] == v and type(ours[k]) is type(v)) or _num_eq(ours.get(k), v)
        for k, v in answer.items()
    )


def _num_eq(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    return isinstance(a, numbers) and isinstance(b, numbers) and a == b


def all_cases() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for name, entry in corpus().items():
        if entry["answers"] is not None and name in IMPLEMENTED:
            out.extend((name, case) for case in entry["doc"]["cases"])
    return out


def true_answer(name: str, case_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = DIVERGENCES.get(case_id, corpus()[name]["answers"][case_id])
    return answer


def test_skip_list_is_exact() -> None:
    names = corpus_names()
    assert not set(IMPLEMENTED) & set(SKIPPED)
    assert names - set(IMPLEMENTED) - set(SKIPPED) == set(), "corpus codecs neither implemented nor skipped"
    assert set(SKIPPED) - names == set(), "skipped names that are not in the corpus"
    assert set(IMPLEMENTED) - names == set(), "implemented names that are not in the corpus"
    # every skipped codec with stored answers would be a silently dropped case: there are none
    assert [n for n in SKIPPED if corpus().get(n, {}).get("answers")] == []


def test_every_case_with_answers_is_run() -> None:
    with_answers = {n for n, e in corpus().items() if e["answers"] is not None}
    assert with_answers <= set(IMPLEMENTED)
    assert len(all_cases()) == sum(len(corpus()[n]["doc"]["cases"]) for n in with_answers)


@pytest.mark.parametrize(("name", "case"), all_cases(), ids=[case["id"] for _, case in all_cases()])
def test_case(name: str, case: dict[str, Any]) -> None:
    ours = run_case(IMPLEMENTED[name], kind_of(name), case["input"])
    expected = true_answer(name, case["id"])
    assert matches(ours, expected), f"{case['id']} ({case['note']}): ours {ours}, expected {expected}"


def test_divergences_really_diverge_from_answers() -> None:
    for case_id, ref in DIVERGENCES.items():
        name = next(n for n, case in all_cases() if case["id"] == case_id)
        assert not matches(ref, corpus()[name]["answers"][case_id]), case_id


def _mutants() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = _load(FIXTURES / "mutants.json")
    return out


def _fixture_codec(fixture: str) -> str | None:
    for name, case in all_cases():
        if case["id"] == fixture:
            return name
    return None


def test_mutant_bookkeeping() -> None:
    fixtures = {m["fixture"] for m in _mutants()}
    unknown = {f for f in fixtures if _fixture_codec(f) is None}
    assert unknown == MISSING_FIXTURES
    keys = {(m["fixture"], json.dumps(m["answer"], sort_keys=True)) for m in _mutants()}
    assert keys >= UNREFUTABLE_MUTANTS


@pytest.mark.parametrize("mutant", _mutants(), ids=[f"{m['fixture']}:{m['rule']}" for m in _mutants()])
def test_mutant_is_refuted(mutant: dict[str, Any]) -> None:
    fixture = mutant["fixture"]
    name = _fixture_codec(fixture)
    if name is None:
        assert fixture in MISSING_FIXTURES
        return
    case = next(case for n, case in all_cases() if case["id"] == fixture)
    ours = run_case(IMPLEMENTED[name], kind_of(name), case["input"])
    assert matches(ours, true_answer(name, fixture))
    key = (fixture, json.dumps(mutant["answer"], sort_keys=True))
    if key in UNREFUTABLE_MUTANTS:
        assert matches(ours, mutant["answer"]), "listed as unrefutable but refuted: update the list"
    else:
        assert not matches(ours, mutant["answer"]), f"mutant not refuted: {mutant['reading']}"


@pytest.mark.interop
def test_reference_agrees_with_answers_except_divergences() -> None:
    reference = run_node_json("encoding-corpus.js", str(FIXTURES))
    disagree: dict[str, dict[str, Any]] = {}
    for name, case in all_cases():
        ref = reference[name][case["id"]]
        ours = run_case(IMPLEMENTED[name], kind_of(name), case["input"])
        assert matches(ours, ref), f"{case['id']}: ours {ours}, reference {ref}"
        if not matches(ref, corpus()[name]["answers"][case["id"]]):
            disagree[case["id"]] = ref
    assert disagree == DIVERGENCES
