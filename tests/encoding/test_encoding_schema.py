"""The declarative ``schema`` struct codecs: differential tests against a plain interpreter that
calls the (JS-verified) leaf codecs in declared order, random schemas, fuzzing and composition.

The wire compatibility with JS of a real message is covered by test_encoding_vectors (the bench
REQUEST is a schema and must write the JS twin's bytes); here every generated schema must agree
byte for byte and value for value with the straightforward composition of its leaf codecs.
"""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpunch import encoding as c
from hyperpunch.encoding import Codec, DecodeError, EncodeError, SchemaError, State

MAX_SAFE_UINT = c.MAX_SAFE_UINT


# --- the oracle: interpret a schema description with the leaf codecs' own methods ------------------


@dataclasses.dataclass
class Desc:
    """A schema description: entries as (kind, name, codec, bit) in wire order, flags position."""

    names: list[str]
    entries: list[tuple[str, str, Codec[Any] | None, int]]  # kind in field/optional/flag/flags
    prefix: bytes
    truthy: frozenset[str] = frozenset()  # optional fields present iff truthy

    def present(self, name: str, value: Any) -> bool:
        return bool(value) if name in self.truthy else value is not None

    def flags_of(self, values: dict[str, Any]) -> int:
        fl = 0
        for kind, name, _, bit in self.entries:
            if (kind == "optional" and self.present(name, values[name])) or (kind == "flag" and values[name]):
                fl |= 1 << bit
        return fl


class Oracle(Codec[Any]):
    def __init__(self, desc: Desc, cls: Any) -> None:
        self.desc = desc
        self.cls = cls

    def _values(self, m: Any) -> dict[str, Any]:
        return {n: getattr(m, n) for n in self.desc.names}

    def preencode(self, state: c.EncodeState, m: Any) -> None:
        v = self._values(m)
        state.end += len(self.desc.prefix)
        for kind, name, codec, _ in self.desc.entries:
            if kind == "flags":
                c.uint.preencode(state, self.desc.flags_of(v))
            elif kind == "field" or (kind == "optional" and self.desc.present(name, v[name])):
                assert codec is not None
                codec.preencode(state, v[name])

    def encode(self, state: c.EncodeState, m: Any) -> None:
        v = self._values(m)
        c.raw.encode(state, self.desc.prefix)
        for kind, name, codec, _ in self.desc.entries:
            if kind == "flags":
                c.uint.encode(state, self.desc.flags_of(v))
            elif kind == "field" or (kind == "optional" and self.desc.present(name, v[name])):
                assert codec is not None
                codec.encode(state, v[name])

    def decode(self, state: c.DecodeState) -> Any:
        p = self.desc.prefix
        for byte in p:
            if c.uint8.decode(state) != byte:
                raise DecodeError("Unknown message type")
        fl = 0
        out: dict[str, Any] = {}
        for kind, name, codec, bit in self.desc.entries:
            if kind == "flags":
                fl = c.uint.decode(state)
            elif kind == "field":
                assert codec is not None
                out[name] = codec.decode(state)
            elif kind == "optional":
                assert codec is not None
                out[name] = codec.decode(state) if fl >> bit & 1 else None
        for kind, name, _, bit in self.desc.entries:  # flag-only entries: wherever they are listed
            if kind == "flag":
                out[name] = fl >> bit & 1 == 1
        return self.cls(**out)


# --- leaf codecs to draw fields from, with value strategies ----------------------------------------


class Inner(NamedTuple):
    a: int
    b: bytes | None


INNER = c.schema(Inner, c.field("a", c.uint), c.optional("b", c.buffer))
INNER_DESC = Desc(
    ["a", "b"], [("flags", "", None, 0), ("field", "a", c.uint, 0), ("optional", "b", c.buffer, 0)], b""
)

uints = st.one_of(st.integers(0, 0x100), st.integers(0, 0x10000), st.integers(0, MAX_SAFE_UINT))
hosts = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
LEAVES: dict[str, tuple[Codec[Any], st.SearchStrategy[Any]]] = {
    "uint": (c.uint, uints),
    "uint8": (c.uint8, st.integers(0, 255)),
    "uint16": (c.uint16, st.integers(0, 0xFFFF)),
    "uint32": (c.uint32, st.integers(0, 0xFFFFFFFF)),
    "uint64": (c.uint64, st.integers(0, MAX_SAFE_UINT)),
    "buffer": (c.buffer, st.binary(max_size=300)),
    "fixed32": (c.fixed32, st.binary(min_size=32, max_size=32)),
    "fixed3": (c.fixed(3), st.binary(min_size=3, max_size=3)),
    "ipv4_address": (c.ipv4_address, st.builds(c.Address, hosts, st.integers(0, 0xFFFF))),
    "bool": (c.bool_, st.booleans()),
    "float64": (c.float64, st.floats(allow_nan=False)),
    "utf8": (c.utf8, st.text(max_size=20)),  # generic path
    "array(uint)": (c.array(c.uint), st.lists(uints, max_size=4)),  # generic path
    "ipv6_address": (
        c.ipv6_address,
        st.builds(c.Address, st.just("0:0:0:0:0:0:0:1"), st.integers(0, 0xFFFF)),
    ),
    "inner": (INNER, st.builds(Inner, uints, st.none() | st.binary(max_size=10))),  # nested schema
    # inlined containers and leaves
    "array(ipv4)": (
        c.array(c.ipv4_address),
        st.lists(st.builds(c.Address, hosts, st.integers(0, 0xFFFF)), max_size=4),
    ),
    "array(inner)": (
        c.array(INNER),
        st.lists(st.builds(Inner, uints, st.none() | st.binary(max_size=4)), max_size=3),
    ),
    "array(fixed3)": (c.array(c.fixed(3)), st.lists(st.binary(min_size=3, max_size=3), max_size=3)),
    "array(array(uint))": (c.array(c.array(c.uint)), st.lists(st.lists(uints, max_size=3), max_size=3)),
    "array(utf8)": (c.array(c.utf8), st.lists(st.text(max_size=5), max_size=3)),  # generic items
    "uint32array": (c.uint32array, st.lists(st.integers(0, 0xFFFFFFFF), max_size=5)),
    "optional_buffer": (c.optional_buffer, st.none() | st.binary(min_size=1, max_size=20)),
    "enum": (c.enum("colour", ("red", "green", "blue")), st.sampled_from(["red", "green", "blue"])),
}


@dataclasses.dataclass
class Drawn:
    desc: Desc
    cls: Any
    codec: c.Schema[Any]
    oracle: Oracle
    values: st.SearchStrategy[Any]


@st.composite
def schemas(draw: st.DrawFn) -> Drawn:
    n = draw(st.integers(1, 8))
    kinds = draw(st.lists(st.sampled_from(["field", "optional", "flag"]), min_size=n, max_size=n))
    leaves = draw(st.lists(st.sampled_from(sorted(LEAVES)), min_size=n, max_size=n))
    names = [f"f{i}" for i in range(n)]
    nflagged = sum(k != "field" for k in kinds)
    explicit = draw(st.booleans())
    if explicit:  # any distinct bits, some above 7 so the flags uint needs several bytes
        bits = draw(st.lists(st.integers(0, 12), min_size=nflagged, max_size=nflagged, unique=True))
    else:
        bits = list(range(nflagged))
    # the flags uint must precede the optional fields it announces (flag-only entries go anywhere)
    first_optional = kinds.index("optional") if "optional" in kinds else n
    flags_at = draw(st.integers(0, first_optional)) if nflagged else None
    prefix = draw(st.sampled_from([b"", b"\x03", b"\x13\x37"]))

    entries: list[c.Entry] = []
    oracle_entries: list[tuple[str, str, Codec[Any] | None, int]] = []
    value_strats: dict[str, st.SearchStrategy[Any]] = {}
    bit_iter = iter(bits)
    truthy: set[str] = set()
    for i, (kind, leaf, name) in enumerate(zip(kinds, leaves, names, strict=True)):
        if i == flags_at:
            entries.append(c.flags())
            oracle_entries.append(("flags", "", None, 0))
        codec, strat = LEAVES[leaf]
        if kind == "field":
            entries.append(c.field(name, codec))
            oracle_entries.append(("field", name, codec, 0))
            value_strats[name] = strat
        elif kind == "optional":
            bit = next(bit_iter)
            if draw(st.booleans()):
                truthy.add(name)
            entries.append(c.optional(name, codec, bit=bit if explicit else None, truthy=name in truthy))
            oracle_entries.append(("optional", name, codec, bit))
            value_strats[name] = st.none() | strat
        else:
            bit = next(bit_iter)
            entries.append(c.flag(name, bit=bit if explicit else None))
            oracle_entries.append(("flag", name, None, bit))
            value_strats[name] = st.booleans()
    if flags_at == n:
        entries.append(c.flags())
        oracle_entries.append(("flags", "", None, 0))
    if nflagged and flags_at is None:
        oracle_entries.insert(0, ("flags", "", None, 0))

    # the value class: a NamedTuple whose field order differs from the wire order, or a dataclass
    order = draw(st.permutations(names))
    kind = draw(st.sampled_from(["namedtuple", "dataclass", "slotted"]))
    make: Any = namedtuple if kind == "namedtuple" else dataclasses.make_dataclass
    options = {"frozen": True, "slots": True} if kind == "slotted" else {}  # slotted: built by slot setters
    cls: Any = make("Msg", order, **options)
    desc = Desc(names, oracle_entries, prefix, frozenset(truthy))
    codec = c.schema(cls, *entries, prefix=prefix)
    values = st.fixed_dictionaries(value_strats).map(lambda d: cls(**d))
    return Drawn(desc, cls, codec, Oracle(desc, cls), values)


def _flagged_to_bool(drawn: Drawn, value: Any) -> Any:
    """What decoding gives back for ``value``: flag-only entries come back as ``bool``."""
    out = {n: getattr(value, n) for n in drawn.desc.names}
    for kind, name, _, _ in drawn.desc.entries:
        if kind == "flag":
            out[name] = bool(out[name])
        elif kind == "optional" and not drawn.desc.present(name, out[name]):
            out[name] = None
    return drawn.cls(**out)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.data())
def test_random_schemas_match_the_oracle(data: st.DataObject) -> None:
    drawn = data.draw(schemas())
    value = data.draw(drawn.values)
    want = c.encode(drawn.oracle, value)
    assert c.encode(drawn.codec, value) == want
    # preencode sizes like the oracle; state-based encode at an offset writes the same bytes
    sizer = c.encode_state()
    drawn.codec.preencode(sizer, value)
    assert sizer.end == len(want)
    state = State(3, 3 + len(want), bytearray(len(want) + 5))
    drawn.codec.encode(state, value)
    assert state.start == 3 + len(want)
    assert bytes(state.buffer[3 : 3 + len(want)]) == want
    # decode, fast path and state path, ignoring the surrounding bytes
    expected = _flagged_to_bool(drawn, value)
    assert c.decode(drawn.codec, want, exact=True) == expected
    dstate = State(2, 2 + len(want), b"\xff\xfe" + want + b"\x00")
    assert drawn.codec.decode(dstate) == expected
    assert dstate.start == 2 + len(want)


@SETTINGS
@given(st.data())
def test_random_bytes_decode_like_the_oracle_or_raise_decode_error(data: st.DataObject) -> None:
    drawn = data.draw(schemas())
    if data.draw(st.booleans()):  # a valid message, truncated or extended at random
        base = c.encode(drawn.codec, data.draw(drawn.values))
        cut = data.draw(st.integers(0, len(base)))
        raw = base[:cut] + data.draw(st.binary(max_size=8))
    else:
        raw = data.draw(st.sampled_from([b"", b"\x03", b"\x13\x37", b"\xfd", b"\xff"])) + data.draw(
            st.binary(max_size=80)
        )
    slack = data.draw(st.integers(0, 4))
    end = max(0, len(raw) - slack)

    def run(codec: Codec[Any]) -> tuple[str, Any, int]:
        state = State(0, end, raw)
        try:
            value = codec.decode(state)
        except DecodeError:
            return ("error", None, 0)
        return ("ok", value, state.start)

    got = run(drawn.codec)
    assert got == run(drawn.oracle)
    if got[0] == "ok":
        assert 0 <= got[2] <= end
    # the top-level fast path agrees too, and never lets anything but DecodeError out
    try:
        fast = c.decode(drawn.codec, raw[:end])
    except DecodeError:
        assert got[0] == "error"
    else:
        assert got[0] == "ok" and fast == got[1]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_bench_request_decodes_any_bytes_like_the_handwritten_codec(raw: bytes) -> None:
    from bench.bench_encoding import REQUEST, REQUEST_HANDWRITTEN

    def run(codec: Codec[Any], data: bytes) -> Any:
        try:
            return c.decode(codec, data)
        except DecodeError:
            return "error"

    for data in (raw, b"\x03" + raw):
        assert run(REQUEST, data) == run(REQUEST_HANDWRITTEN, data)


def test_bench_request_source_inlines_the_fixed_run() -> None:
    from bench.bench_encoding import REQUEST

    # tid + to are one struct unpack; the generated source is kept for inspection
    assert "_U0.unpack_from(data, s)" in REQUEST.source
    assert "_State(" not in REQUEST.source  # every field of this message is inlined


# --- composition --------------------------------------------------------------------------------------


class Node(NamedTuple):
    offset: int
    length: int
    hash: bytes


NODE = c.schema(Node, c.field("offset", c.uint), c.field("length", c.uint), c.field("hash", c.fixed32))


class Proof(NamedTuple):
    fork: int
    nodes: list[Node]
    upgrade: Inner | None


PROOF = c.schema(
    Proof,
    c.field("fork", c.uint),
    c.field("nodes", c.array(NODE)),
    c.optional("upgrade", INNER),
    prefix=b"\x07",
)


def test_array_frame_and_nesting_compose() -> None:
    nodes = [Node(i, 1000 * i, bytes([i]) * 32) for i in range(5)]
    proof = Proof(3, nodes, Inner(300, b"xy"))
    data = c.encode(PROOF, proof)
    # the same bytes as composing the leaf codecs by hand
    manual = (
        b"\x07"
        + c.encode(c.uint, 1)
        + c.encode(c.uint, 3)
        + c.encode(c.uint, 5)
        + b"".join(c.encode(c.uint, n.offset) + c.encode(c.uint, n.length) + n.hash for n in nodes)
        + c.encode(c.uint, 1)
        + c.encode(c.uint, 300)
        + c.encode(c.buffer, b"xy")
    )
    assert data == manual
    assert c.decode(PROOF, data, exact=True) == proof
    framed = c.array(c.frame(PROOF))
    both = [proof, Proof(0, [], None)]
    assert c.decode(framed, c.encode(framed, both), exact=True) == both
    # a frame bounds the schema's decode
    short = c.encode(c.uint, 3) + data
    with pytest.raises(DecodeError):
        c.decode(c.frame(PROOF), short)


@dataclasses.dataclass
class Hello:
    name: str
    port: int | None = None
    relay: bool = False


def test_dataclass_values_and_explicit_bits() -> None:
    codec = c.schema(
        Hello, c.field("name", c.utf8), c.flags(), c.optional("port", c.uint16, bit=3), c.flag("relay", bit=0)
    )
    data = c.encode(codec, Hello("ab", 80, True))
    assert data == c.encode(c.utf8, "ab") + bytes([0b1001]) + b"\x50\x00"
    assert c.decode(codec, data, exact=True) == Hello("ab", 80, True)
    assert c.decode(codec, c.encode(codec, Hello("x"))) == Hello("x")


def test_truthy_optional_fields_follow_js_truthiness() -> None:
    class Reply(NamedTuple):
        tid: int
        error: int
        value: bytes | None

    # like dht-rpc's response: ``m.error ? flag : 0`` and an absent error decodes as 0
    codec = c.schema(
        Reply,
        c.field("tid", c.uint16),
        c.optional("error", c.uint, truthy=True, default=0),
        c.optional("value", c.buffer),
    )
    assert c.encode(codec, Reply(1, 0, None)) == b"\x00\x01\x00"
    assert c.encode(codec, Reply(1, 5, b"")) == b"\x03\x01\x00\x05\x00"  # an empty buffer is present
    assert c.decode(codec, b"\x00\x01\x00", exact=True) == Reply(1, 0, None)
    assert c.decode(codec, b"\x03\x01\x00\x05\x00", exact=True) == Reply(1, 5, b"")
    sizer = c.encode_state()
    codec.preencode(sizer, Reply(1, 0, None))
    assert sizer.end == 3


def test_flags_wider_than_one_byte() -> None:
    class Wide(NamedTuple):
        a: int | None
        b: bool

    codec = c.schema(Wide, c.optional("a", c.uint8, bit=9), c.flag("b", bit=7))
    data = c.encode(codec, Wide(5, True))
    assert data == c.encode(c.uint, (1 << 9) | (1 << 7)) + b"\x05"
    assert c.decode(codec, data, exact=True) == Wide(5, True)
    assert c.decode(codec, b"\x00") == Wide(None, False)
    # non-minimal varint flags decode, as JS's uint decoder accepts them
    assert c.decode(codec, b"\xfd\x80\x00") == Wide(None, True)


def test_prefix_mismatch_and_trailing_bytes() -> None:
    from bench.bench_encoding import REQUEST, typical

    data = c.encode(REQUEST, typical())
    with pytest.raises(DecodeError, match="Unknown message type"):
        c.decode(REQUEST, b"\x13" + data[1:])
    with pytest.raises(DecodeError, match="Out of bounds"):
        c.decode(REQUEST, b"")
    with pytest.raises(DecodeError, match="trailing"):
        c.decode(REQUEST, data + b"\x00", exact=True)
    assert c.decode(REQUEST, bytearray(data)) == c.decode(REQUEST, memoryview(data)) == typical()


@pytest.mark.parametrize(
    "change",
    [
        {"tid": -1},
        {"tid": MAX_SAFE_UINT + 1},
        {"tid": 1.5},
        {"to": c.Address("1.2.3", 1)},
        {"to": c.Address("1.2.3.4", -1)},
        {"to": None},
        {"id": b"x" * 31},
        {"token": "x" * 32},
        {"command": -1},
        {"command": MAX_SAFE_UINT + 1},
        {"command": 2.0},
        {"value": "text"},
        {"value": 5},
    ],
)
def test_encode_refuses_bad_fields(change: dict[str, Any]) -> None:
    from bench.bench_encoding import REQUEST, REQUEST_HANDWRITTEN, typical

    msg = typical()._replace(**change)
    with pytest.raises(EncodeError):
        c.encode(REQUEST, msg)
    with pytest.raises(EncodeError):
        c.encode(REQUEST_HANDWRITTEN, msg)
    with pytest.raises(EncodeError):
        c.encode(c.array(REQUEST), [msg])
    with pytest.raises(EncodeError):
        c.encode(REQUEST, (1, 2))  # type: ignore[misc]  # not a Request at all


def test_uint16_keeps_low_bytes_like_js() -> None:
    from bench.bench_encoding import REQUEST, REQUEST_HANDWRITTEN, typical

    msg = typical()._replace(tid=0x1BEEF, command=2**40)
    assert c.encode(REQUEST, msg) == c.encode(REQUEST_HANDWRITTEN, msg)
    # a dotted quad with leading zeros (JS reads "010" as 10), twice: the host cache must agree
    for _ in range(2):
        msg = typical()._replace(to=c.Address("010.000.001.255", 7))
        assert c.encode(REQUEST, msg) == c.encode(REQUEST_HANDWRITTEN, msg)
        assert c.encode(REQUEST, msg)[4:8] == bytes([10, 0, 1, 255])


class Pair(NamedTuple):
    a: int
    b: int


@pytest.mark.parametrize(
    "entries",
    [
        [c.field("a", c.uint)],  # b missing
        [c.field("a", c.uint), c.field("b", c.uint), c.field("a", c.uint)],  # a twice
        [c.field("a", c.uint), c.field("c", c.uint)],  # unknown name
        [c.optional("a", c.uint, bit=1), c.optional("b", c.uint, bit=1)],  # bit taken
        [c.optional("a", c.uint, bit=40), c.field("b", c.uint)],  # bit out of range
        [c.flags(), c.flags(), c.field("a", c.uint), c.field("b", c.uint)],  # two flags entries
        [c.field("a", "uint"), c.field("b", c.uint)],  # type: ignore[arg-type]  # not a codec
        [c.optional("a", c.uint), c.flags(), c.field("b", c.uint)],  # optional before its flags
    ],
)
def test_inconsistent_schema_definitions_are_refused(entries: list[c.Entry]) -> None:
    with pytest.raises(SchemaError):
        c.schema(Pair, *entries)


def test_value_class_must_be_namedtuple_or_dataclass() -> None:
    with pytest.raises(SchemaError):
        c.schema(dict, c.field("a", c.uint))


# --- written constants, trailing fields and flags, default factories, enums -----------------------

KIND = c.enum("kind", ("zero", "one", "two"))


@dataclasses.dataclass(frozen=True, slots=True)
class Sink:
    version: int
    items: list[Inner]
    words: list[int]
    sig: bytes | None
    kind: str
    more: list[int] = dataclasses.field(default_factory=list)
    wide: bool = False
    tail: int = 7


SINK = c.schema(
    Sink,
    c.field("version", c.uint, written=1),
    c.field("items", c.array(INNER)),
    c.field("words", c.uint32array),
    c.field("sig", c.optional_buffer),
    c.field("kind", KIND),
    c.flags(trailing=True),
    c.optional("more", c.array(c.uint), truthy=True, default_factory=list),
    c.flag("wide", bit=4),
    c.trailing("tail", c.uint, default=7),
)


class SinkOracle(Codec[Sink]):
    """SINK written the plain way (JS-style), from the leaf codecs' own methods."""

    items = c.array(INNER)
    more = c.array(c.uint)

    def _flags(self, m: Sink) -> int:
        return (1 if m.more else 0) | (16 if m.wide else 0)

    def preencode(self, state: c.EncodeState, m: Sink) -> None:
        c.uint.preencode(state, 1)
        self.items.preencode(state, m.items)
        c.uint32array.preencode(state, m.words)
        c.optional_buffer.preencode(state, m.sig)
        KIND.preencode(state, m.kind)
        c.uint.preencode(state, self._flags(m))
        if m.more:
            self.more.preencode(state, m.more)
        c.uint.preencode(state, m.tail)

    def encode(self, state: c.EncodeState, m: Sink) -> None:
        c.uint.encode(state, 1)
        self.items.encode(state, m.items)
        c.uint32array.encode(state, m.words)
        c.optional_buffer.encode(state, m.sig)
        KIND.encode(state, m.kind)
        c.uint.encode(state, self._flags(m))
        if m.more:
            self.more.encode(state, m.more)
        c.uint.encode(state, m.tail)

    def decode(self, state: c.DecodeState) -> Sink:
        version = c.uint.decode(state)
        items = self.items.decode(state)
        words = c.uint32array.decode(state)
        sig = c.optional_buffer.decode(state)
        kind = KIND.decode(state)
        fl = c.uint.decode(state) if state.start < state.end else 0
        more = self.more.decode(state) if fl & 1 else []
        tail = c.uint.decode(state) if state.start < state.end else 7
        return Sink(version, items, words, sig, kind, more, fl & 16 != 0, tail)


SINK_ORACLE = SinkOracle()
sinks = st.builds(
    Sink,
    uints,
    st.lists(st.builds(Inner, uints, st.none() | st.binary(max_size=4)), max_size=3),
    st.lists(st.integers(0, 0xFFFFFFFF), max_size=4),
    st.none() | st.binary(min_size=1, max_size=300),
    st.sampled_from(KIND.names),
    st.lists(uints, max_size=3),
    st.booleans(),
    uints,
)


@SETTINGS
@given(sinks)
def test_new_entry_kinds_match_the_plain_codec(value: Sink) -> None:
    data = c.encode(SINK, value)
    assert data == c.encode(SINK_ORACLE, value)
    sizer = c.encode_state()
    SINK.preencode(sizer, value)
    assert sizer.end == len(data)
    expected = dataclasses.replace(value, version=1)  # written as 1 whatever the value holds
    assert c.decode(SINK, data, exact=True) == expected
    assert SINK.decode(State(1, 1 + len(data), b"\x00" + data)) == expected


@SETTINGS
@given(st.binary(max_size=60), st.integers(0, 4))
def test_new_entry_kinds_decode_any_bytes_like_the_plain_codec(raw: bytes, slack: int) -> None:
    end = max(0, len(raw) - slack)

    def run(codec: Codec[Sink]) -> Any:
        state = State(0, end, raw)
        try:
            return codec.decode(state), state.start
        except DecodeError:
            return "error"

    got = run(SINK)
    assert got == run(SINK_ORACLE)
    try:
        fast = c.decode(SINK, raw[:end])
    except DecodeError:
        assert got == "error"
    else:
        assert got != "error" and fast == got[0]


def test_written_trailing_and_default_factory() -> None:
    value = Sink(9, [], [], None, "two", tail=300)
    data = c.encode(SINK, value)
    assert data == b"\x01\x00\x00\x00\x02\x00\xfd\x2c\x01"
    # a version other than the written one is kept on decode
    assert c.decode(SINK, b"\x05" + data[1:]).version == 5
    # trailing flags and field absent: 0 and the default; the absent list is a fresh one each time
    short = data[:5]
    a, b = c.decode(SINK, short, exact=True), c.decode(SINK, short, exact=True)
    assert a == Sink(1, [], [], None, "two", [], False, 7)
    assert a.more == [] and a.more is not b.more
    assert c.decode(SINK, short + b"\x11\x01\x05\x02") == Sink(1, [], [], None, "two", [5], True, 2)


def test_flags_omitted_when_zero() -> None:
    class Want(NamedTuple):
        start: int
        any: bool

    codec = c.schema(Want, c.field("start", c.uint), c.flags(trailing=True, omit_zero=True), c.flag("any"))
    assert c.encode(codec, Want(3, False)) == b"\x03"
    assert c.encode(codec, Want(3, True)) == b"\x03\x01"
    sizer = c.encode_state()
    codec.preencode(sizer, Want(3, False))
    assert sizer.end == 1
    assert c.decode(codec, b"\x03", exact=True) == Want(3, False)
    assert c.decode(codec, b"\x03\x01", exact=True) == Want(3, True)
    assert c.decode(codec, b"\x03\xfd\x01\x00", exact=True) == Want(3, True)


def test_enum_refuses_unknown_names_and_ids() -> None:
    with pytest.raises(EncodeError, match="Unknown kind: four"):
        c.encode(KIND, "four")
    with pytest.raises(EncodeError, match="Unknown kind: four"):
        c.encode(SINK, Sink(1, [], [], None, "four"))
    with pytest.raises(DecodeError, match="Unknown kind id: 3"):
        c.decode(KIND, b"\x03")
    with pytest.raises(DecodeError, match="Unknown kind id: 3"):
        c.decode(SINK, b"\x01\x00\x00\x00\x03")
    assert c.decode(KIND, b"\xfd\x01\x00") == "one"  # a non-minimal varint, as JS's uint reads it


def test_inlined_arrays_refuse_too_many_elements() -> None:
    too_many = c.encode(c.uint, c.ARRAY_MAX + 1)
    with pytest.raises(DecodeError, match="Array is too big"):
        c.decode(SINK, b"\x01" + too_many)
    with pytest.raises(DecodeError, match="Array is too big"):
        c.decode(c.array(INNER), too_many)
    assert "for _ in range(" in SINK.source  # the item decoder is inlined in a loop
    assert "_State(" not in SINK.source


@dataclasses.dataclass(frozen=True, slots=True)
class Checked:
    n: int

    def __post_init__(self) -> None:
        if self.n > 100:
            raise ValueError("too big")


def test_post_init_still_runs_on_decode() -> None:
    codec = c.schema(Checked, c.field("n", c.uint))
    assert c.decode(codec, b"\x05") == Checked(5)
    with pytest.raises(DecodeError):
        c.decode(codec, b"\xfd\x00\x01")  # 256: __post_init__ refuses it, as a decode failure


@pytest.mark.parametrize(
    "entries",
    [
        [c.optional("a", c.uint, default=0, default_factory=int), c.field("b", c.uint)],
        [c.field("a", c.uint), c.flags(omit_zero=True), c.field("b", c.uint)],  # must be trailing
        [c.trailing("a", "uint"), c.field("b", c.uint)],  # type: ignore[arg-type]  # not a codec
    ],
)
def test_inconsistent_new_entry_options_are_refused(entries: list[c.Entry]) -> None:
    with pytest.raises(SchemaError):
        c.schema(Pair, *entries)


def test_fixed_head_takes_the_field_by_field_way_for_a_wide_flags_varint() -> None:
    from bench.bench_encoding import REQUEST, REQUEST_HANDWRITTEN, typical

    data = c.encode(REQUEST, typical())
    assert "_head.unpack_from" in REQUEST.source  # prefix, flags, tid and to in one unpack
    wide = data[:1] + b"\xfd" + bytes([data[1], 0]) + data[2:]  # the same flags, non-minimal
    assert c.decode(REQUEST, wide, exact=True) == c.decode(REQUEST_HANDWRITTEN, wide) == typical()
    for cut in range(len(wide)):  # short inputs: the same error either way
        with pytest.raises(DecodeError):
            c.decode(REQUEST, wide[:cut])
    with pytest.raises(DecodeError, match="Unknown message type"):
        c.decode(REQUEST, b"\x04" + wide[1:6])  # short and of the wrong type: the type is reported


def test_positive_optional_fields_follow_js_greater_than_zero() -> None:
    class Reply(NamedTuple):
        error: int
        value: bytes | None

    # like dht-rpc's response: ``m.error > 0 ? flag : 0``, so a negative error is left out
    codec = c.schema(
        Reply, c.optional("error", c.uint, positive=True, default=0), c.optional("value", c.buffer)
    )
    assert c.encode(codec, Reply(0, None)) == b"\x00"
    assert c.encode(codec, Reply(-1, None)) == b"\x00"
    assert c.encode(codec, Reply(300, b"")) == b"\x03\xfd\x2c\x01\x00"
    assert c.decode(codec, b"\x00", exact=True) == Reply(0, None)
    assert c.decode(codec, b"\x03\xfd\x2c\x01\x00", exact=True) == Reply(300, b"")
    with pytest.raises(SchemaError):
        c.schema(
            Reply, c.optional("error", c.uint, truthy=True, positive=True), c.optional("value", c.buffer)
        )
