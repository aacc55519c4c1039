"""Autobase 7 encodings (JS ``autobase/lib/messages.js``: the hyperschema spec
``encoding/spec/autobase`` and ``encoding/legacy.js``) as compact-encoding codecs.

What they carry: a writer core's blocks are :data:`oplog_message` values (a DAG :class:`Node`,
its causal ``heads``, the ``batch`` countdown and the user ``value``, plus optional checkpoint,
digest and trace frames). The system view stores :data:`info` and :data:`member` records, the
boot record (:data:`boot_record`) and the linearizer log (:data:`linearizer_key` ->
:data:`linearizer_update`); peers exchange :data:`wakeup` hints; view manifests carry
:data:`manifest_data` as their ``userData``.

Invariants: every codec writes the bytes autobase 7.28.1 writes for the same value and decodes
what it decodes, legacy layouts included (oplog versions 0 and 1 and boot record version 0 decode
only, as in JS: encoding them raises :class:`EncodeError`); decoders raise only
:class:`DecodeError` (``'Unsupported version'`` for an unknown version). Values are frozen
dataclasses with snake_case fields; absent optional parts are ``None`` (JS ``null``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from hyperpunch.encoding import (
    Codec,
    DecodeError,
    DecodeState,
    EncodeError,
    EncodeState,
    array,
    field,
    fixed32,
    fixed64,
    flag,
    flags,
    frame,
    optional,
    optional_buffer,
    schema,
    uint,
    uint8,
)

__all__ = [
    "BOOT_RECORD_VERSION",
    "LINEARIZER_PREFIX",
    "OPLOG_VERSION",
    "BootRecord",
    "Checkout",
    "Checkpoint",
    "Checkpointer",
    "Digest",
    "EncryptionDescriptor",
    "IndexCheckpoint",
    "Info",
    "LinearizerUpdate",
    "ManifestData",
    "Member",
    "Node",
    "OplogMessage",
    "Trace",
    "UserViewTrace",
    "Wakeup",
    "boot_record",
    "checkout",
    "checkpoint",
    "checkpointer",
    "clock",
    "digest",
    "encryption_descriptor",
    "index_checkpoint",
    "info",
    "linearizer_key",
    "linearizer_update",
    "manifest_data",
    "member",
    "node",
    "oplog_message",
    "trace",
    "user_view_trace",
    "wakeup",
]

OPLOG_VERSION = 2  # JS lib/caps.js
BOOT_RECORD_VERSION = 3
LINEARIZER_PREFIX = 1  # prefix 0 is reserved for a future manifest

_u_pre = uint.preencode
_u_enc = uint.encode
_u_dec = uint.decode


def _unsupported(v: int) -> DecodeError:
    return DecodeError(f"Unsupported version: {v}")


# --- small structs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkout:
    """A ``(key, length)`` pair: a DAG head, an indexer, a view length (JS ``@autobase/checkout``).
    ``length`` is ``-1`` only in version-0 wakeup hints, which carry no lengths."""

    key: bytes
    length: int


checkout = schema(Checkout, field("key", fixed32), field("length", uint))
clock: Codec[list[Checkout]] = array(checkout)


@dataclass(frozen=True, slots=True)
class IndexCheckpoint:
    signature: bytes  # 64 bytes
    length: int


index_checkpoint = schema(IndexCheckpoint, field("signature", fixed64), field("length", uint))


@dataclass(frozen=True, slots=True)
class Checkpointer:
    """``checkpointer`` > 0: the checkpoint is that many blocks back; else ``checkpoint`` is here."""

    checkpointer: int = 0
    checkpoint: IndexCheckpoint | None = None


class _CheckpointerCodec(Codec[Checkpointer]):
    """``@autobase/checkpointer``: a ``uint8`` flags byte (not a ``uint``), then the parts."""

    def preencode(self, state: EncodeState, m: Checkpointer) -> None:
        state.end += 1
        if m.checkpointer:
            _u_pre(state, m.checkpointer)
        if m.checkpoint is not None:
            index_checkpoint.preencode(state, m.checkpoint)

    def encode(self, state: EncodeState, m: Checkpointer) -> None:
        uint8.encode(state, (1 if m.checkpointer else 0) | (2 if m.checkpoint is not None else 0))
        if m.checkpointer:
            _u_enc(state, m.checkpointer)
        if m.checkpoint is not None:
            index_checkpoint.encode(state, m.checkpoint)

    def decode(self, state: DecodeState) -> Checkpointer:
        fl = uint8.decode(state)
        n = _u_dec(state) if fl & 1 else 0
        chk = index_checkpoint.decode(state) if fl & 2 else None
        return Checkpointer(n, chk)


checkpointer: Codec[Checkpointer] = _CheckpointerCodec()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Signed view lengths: the system view, the encryption view and each user view."""

    system: Checkpointer | None = None
    encryption: Checkpointer | None = None
    user: list[Checkpointer] | None = None


checkpoint = schema(
    Checkpoint,
    optional("system", checkpointer),
    optional("encryption", checkpointer),
    optional("user", array(checkpointer)),
)


@dataclass(frozen=True, slots=True)
class Digest:
    """Where the system view's key is: ``pointer`` blocks back, or ``key`` here."""

    pointer: int = 0
    key: bytes | None = None


digest = schema(Digest, optional("pointer", uint, truthy=True, default=0), optional("key", fixed32))


@dataclass(frozen=True, slots=True)
class Node:
    """A DAG node: the causal ``heads`` it saw, the ``batch`` countdown (n..1) and the user value
    (already encoded; ``None`` for an ack)."""

    heads: list[Checkout]
    batch: int = 1
    value: bytes | None = None


node = schema(Node, field("heads", clock), field("batch", uint), field("value", optional_buffer))


@dataclass(frozen=True, slots=True)
class UserViewTrace:
    view: int
    blocks: list[int]


user_view_trace = schema(UserViewTrace, field("view", uint), field("blocks", array(uint)))


@dataclass(frozen=True, slots=True)
class Trace:
    system: list[int] = dc_field(default_factory=list)
    encryption: list[int] = dc_field(default_factory=list)
    user: list[UserViewTrace] = dc_field(default_factory=list)


trace = schema(
    Trace,
    field("system", array(uint)),
    field("encryption", array(uint)),
    field("user", array(user_view_trace)),
)


# --- the oplog (a writer core block) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OplogMessage:
    """One writer core block. ``optimistic`` is ``None`` and ``max_supported_version`` is set
    only for the legacy layouts (0: both; 1: ``max_supported_version``), as JS decodes them."""

    node: Node
    version: int = OPLOG_VERSION
    checkpoint: Checkpoint | None = None
    digest: Digest | None = None
    optimistic: bool | None = False
    trace: Trace | None = None
    max_supported_version: int | None = None


_checkpoint_frame = frame(checkpoint)
_digest_frame = frame(digest)
_trace_frame = frame(trace)
_checkpointer_array: Codec[list[Checkpointer]] = array(checkpointer)


def _legacy_checkpointer(state: DecodeState) -> Checkpointer:
    n = _u_dec(state)
    return Checkpointer(n, None if n else index_checkpoint.decode(state))


def _legacy_checkpoint(state: DecodeState) -> Checkpoint:
    count = _u_dec(state)
    if count > state.end - state.start:
        raise DecodeError("array length exceeds the bytes left")
    chk = [_legacy_checkpointer(state) for _ in range(count)]
    return Checkpoint(chk[0] if chk else None, None, chk[1:])


def _skip_digest_v0(state: DecodeState) -> None:
    if _u_dec(state) == 0:
        for _ in range(_u_dec(state)):
            _u_dec(state)  # signature
            fixed32.decode(state)  # namespace
            fixed32.decode(state)  # publicKey


def _decode_v0(state: DecodeState) -> OplogMessage:
    _u_dec(state)  # version
    fl = _u_dec(state)
    chk = None
    if fl & 1:
        _skip_digest_v0(state)
        chk = _legacy_checkpoint(state)
    n = node.decode(state)
    if _u_dec(state) == 0:  # "additional": pointer, then data flags
        data_flags = _u_dec(state)
        if data_flags & 1:
            fixed32.decode(state)  # encryptionId
        if data_flags & 2:
            _u_dec(state)  # abi
    max_supported = _u_dec(state) if state.start < state.end else 0
    return OplogMessage(n, 0, chk, None, None, None, max_supported)


def _decode_v1(state: DecodeState) -> OplogMessage:
    _u_dec(state)  # version
    max_supported = _u_dec(state)
    fl = _u_dec(state)
    chk = dig = None
    if fl & 1:
        chk = _legacy_checkpoint(state)
        pointer = _u_dec(state)
        dig = Digest(pointer, fixed32.decode(state) if pointer == 0 else None)
    n = node.decode(state)
    return OplogMessage(n, 1, chk, dig, fl & 2 != 0, None, max_supported)


def _v2_flags(m: OplogMessage) -> int:
    return (
        (1 if m.checkpoint is not None else 0)
        | (2 if m.digest is not None else 0)
        | (4 if m.optimistic else 0)
        | (8 if m.trace is not None else 0)
    )


class _OplogMessageCodec(Codec[OplogMessage]):
    """``@autobase/oplog-message``: ``uint version`` then that version's layout; only version 2
    encodes."""

    def preencode(self, state: EncodeState, m: OplogMessage) -> None:
        if m.version != 2:
            raise EncodeError(f"oplog version {m.version} cannot be encoded")
        _u_pre(state, 2)
        node.preencode(state, m.node)
        state.end += 1
        if m.checkpoint is not None:
            _checkpoint_frame.preencode(state, m.checkpoint)
        if m.digest is not None:
            _digest_frame.preencode(state, m.digest)
        if m.trace is not None:
            _trace_frame.preencode(state, m.trace)

    def encode(self, state: EncodeState, m: OplogMessage) -> None:
        _u_enc(state, 2)
        node.encode(state, m.node)
        _u_enc(state, _v2_flags(m))
        if m.checkpoint is not None:
            _checkpoint_frame.encode(state, m.checkpoint)
        if m.digest is not None:
            _digest_frame.encode(state, m.digest)
        if m.trace is not None:
            _trace_frame.encode(state, m.trace)

    def decode(self, state: DecodeState) -> OplogMessage:
        start = state.start
        v = _u_dec(state)
        if v == 0:
            state.start = start
            return _decode_v0(state)
        if v == 1:
            state.start = start
            return _decode_v1(state)
        if v != 2:
            raise _unsupported(v)
        n = node.decode(state)
        fl = _u_dec(state)
        chk = _checkpoint_frame.decode(state) if fl & 1 else None
        dig = _digest_frame.decode(state) if fl & 2 else None
        tr = _trace_frame.decode(state) if fl & 8 else None
        return OplogMessage(n, 2, chk, dig, fl & 4 != 0, tr)


oplog_message: Codec[OplogMessage] = _OplogMessageCodec()


# --- wakeup hints ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wakeup:
    """A wakeup hint (protomux-wakeup payload): ``type`` 1 lists the ``writers`` with news.
    Version 0 carries keys only (their ``length`` decodes as ``-1``)."""

    type: int
    writers: list[Checkout] | None = None
    version: int = 1


class _WakeupCodec(Codec[Wakeup]):
    def preencode(self, state: EncodeState, m: Wakeup) -> None:
        _u_pre(state, 0 if m.version == 0 else 1)
        _u_pre(state, m.type)
        if m.type == 1:
            writers = m.writers or []
            if m.version == 0:
                _u_pre(state, len(writers))
                state.end += 32 * len(writers)
            else:
                clock.preencode(state, writers)

    def encode(self, state: EncodeState, m: Wakeup) -> None:
        _u_enc(state, 0 if m.version == 0 else 1)
        _u_enc(state, m.type)
        if m.type == 1:
            writers = m.writers or []
            if m.version == 0:
                _u_enc(state, len(writers))
                for w in writers:
                    fixed32.encode(state, w.key)
            else:
                clock.encode(state, writers)

    def decode(self, state: DecodeState) -> Wakeup:
        v = _u_dec(state)
        if v > 1:
            raise _unsupported(v)
        t = _u_dec(state)
        writers = None
        if t == 1:
            if v == 0:
                count = _u_dec(state)
                if count > state.end - state.start:
                    raise DecodeError("array length exceeds the bytes left")
                writers = [Checkout(fixed32.decode(state), -1) for _ in range(count)]
            else:
                writers = clock.decode(state)
        return Wakeup(t, writers, v)


wakeup: Codec[Wakeup] = _WakeupCodec()


# --- boot record -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BootRecord:
    """Where the system view is (``key``, ``system_length``). Version 0 (decode only) also carries
    the DAG ``heads``."""

    key: bytes
    system_length: int
    version: int = BOOT_RECORD_VERSION
    indexers_updated: bool = False
    fast_forwarding: bool = False
    recoveries: int = 0
    heads: list[Checkout] | None = None


class _BootRecordCodec(Codec[BootRecord]):
    def _check(self, m: BootRecord) -> None:
        if m.version == 0:
            raise EncodeError("version 0 records cannot be encoded")
        if m.version not in (1, 2, 3):
            raise EncodeError("Unsupported version")

    def preencode(self, state: EncodeState, m: BootRecord) -> None:
        self._check(m)
        _u_pre(state, m.version)
        state.end += 32 + 1
        _u_pre(state, m.system_length)
        if m.recoveries:
            _u_pre(state, m.recoveries)

    def encode(self, state: EncodeState, m: BootRecord) -> None:
        fl = (1 if m.indexers_updated else 0) | (2 if m.fast_forwarding else 0) | (4 if m.recoveries else 0)
        _u_enc(state, m.version)
        fixed32.encode(state, m.key)
        _u_enc(state, m.system_length)
        _u_enc(state, fl)
        if m.recoveries:
            _u_enc(state, m.recoveries)

    def decode(self, state: DecodeState) -> BootRecord:
        v = _u_dec(state)
        if v == 0:
            indexed = checkout.decode(state)
            heads = clock.decode(state)
            return BootRecord(indexed.key, indexed.length, 0, False, False, 1, heads)
        if v not in (1, 2, 3):
            raise _unsupported(v)
        key = fixed32.decode(state)
        length = _u_dec(state)
        fl = _u_dec(state)
        rec = _u_dec(state) if fl & 4 else 0
        return BootRecord(key, length, v, fl & 1 != 0, fl & 2 != 0, rec)


boot_record: Codec[BootRecord] = _BootRecordCodec()


# --- system view records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Info:
    """The system view's info record: membership counts, indexers, DAG heads, view lengths."""

    version: int
    members: int
    pending_indexers: list[bytes]
    indexers: list[Checkout]
    heads: list[Checkout]
    views: list[Checkout]
    encryption_length: int = 0
    entropy: bytes | None = None


_keys: Codec[list[bytes]] = array(fixed32)
_info_v2 = schema(
    Info,
    field("version", uint),
    field("members", uint),
    field("pending_indexers", _keys),
    field("indexers", clock),
    field("heads", clock),
    field("views", clock),
    field("encryption_length", uint),
    flags(),
    optional("entropy", fixed32),
)


class _InfoCodec(Codec[Info]):
    """``@autobase/info``: versions 0 and 1 have no encryption length nor entropy."""

    def preencode(self, state: EncodeState, m: Info) -> None:
        if m.version == 2:
            _info_v2.preencode(state, m)
            return
        if m.version not in (0, 1):
            raise EncodeError("Unsupported version")
        _u_pre(state, m.version)
        _u_pre(state, m.members)
        _keys.preencode(state, m.pending_indexers)
        for c in (m.indexers, m.heads, m.views):
            clock.preencode(state, c)

    def encode(self, state: EncodeState, m: Info) -> None:
        if m.version == 2:
            _info_v2.encode(state, m)
            return
        _u_enc(state, m.version)
        _u_enc(state, m.members)
        _keys.encode(state, m.pending_indexers)
        for c in (m.indexers, m.heads, m.views):
            clock.encode(state, c)

    def decode(self, state: DecodeState) -> Info:
        start = state.start
        v = _u_dec(state)
        if v == 2:
            state.start = start
            return _info_v2.decode(state)
        if v not in (0, 1):
            raise _unsupported(v)
        members = _u_dec(state)
        pending = _keys.decode(state)
        indexers = clock.decode(state)
        heads = clock.decode(state)
        views = clock.decode(state)
        return Info(v, members, pending, indexers, heads, views, 0, None)


info: Codec[Info] = _InfoCodec()


@dataclass(frozen=True, slots=True)
class Member:
    """A system ``MEMBERS`` record: the writer's indexed ``length`` and its role."""

    length: int
    is_indexer: bool = False
    is_removed: bool = False


member = schema(Member, flag("is_indexer"), flag("is_removed"), field("length", uint))


class _LinearizerKeyCodec(Codec[int]):
    """``@autobase/linearizer-key``: ``index-encoder`` UINTs (sortable, big-endian)
    ``LINEARIZER_PREFIX`` then ``seq``."""

    @staticmethod
    def _size(n: int) -> int:
        return 1 if n <= 0xFB else 3 if n <= 0xFFFF else 5 if n <= 0xFFFFFFFF else 9

    @staticmethod
    def _bytes(n: int) -> bytes:
        if n < 0 or n > 2**53 - 1:
            raise EncodeError(f"linearizer seq out of range: {n}")
        if n <= 0xFB:
            return bytes([n])
        if n <= 0xFFFF:
            return b"\xfc" + n.to_bytes(2, "big")
        if n <= 0xFFFFFFFF:
            return b"\xfd" + n.to_bytes(4, "big")
        return b"\xfe" + n.to_bytes(8, "big")

    def preencode(self, state: EncodeState, seq: int) -> None:
        state.end += 1 + self._size(seq)

    def encode(self, state: EncodeState, seq: int) -> None:
        b = bytes([LINEARIZER_PREFIX]) + self._bytes(seq)
        state.buffer[state.start : state.start + len(b)] = b
        state.start += len(b)

    def _uint(self, state: DecodeState) -> int:
        if state.start >= state.end:
            raise DecodeError("Out of bounds")
        a = state.buffer[state.start]
        state.start += 1
        if a <= 0xFB:
            return a
        if a == 0xFF:
            raise DecodeError("Infinity is not a linearizer seq")
        n = {0xFC: 2, 0xFD: 4, 0xFE: 8}[a]
        if state.end - state.start < n:
            raise DecodeError("Out of bounds")
        v = int.from_bytes(state.buffer[state.start : state.start + n], "big")
        state.start += n
        return v

    def decode(self, state: DecodeState) -> int:
        self._uint(state)
        return self._uint(state)


linearizer_key: Codec[int] = _LinearizerKeyCodec()


@dataclass(frozen=True, slots=True)
class LinearizerUpdate:
    key: bytes
    length: int
    batch: int
    system_length: int
    indexers: bool = False


linearizer_update = schema(
    LinearizerUpdate,
    field("key", fixed32),
    field("length", uint),
    field("batch", uint),
    field("system_length", uint),
    flags(),
    flag("indexers"),
)


@dataclass(frozen=True, slots=True)
class EncryptionDescriptor:
    type: int
    payload: bytes | None = None


encryption_descriptor = schema(EncryptionDescriptor, field("type", uint), field("payload", optional_buffer))


@dataclass(frozen=True, slots=True)
class ManifestData:
    """A view manifest's ``userData``."""

    version: int
    legacy_blocks: int = 0
    namespace: bytes | None = None


manifest_data = schema(
    ManifestData,
    field("version", uint),
    flags(),
    optional("legacy_blocks", uint, truthy=True, default=0),
    optional("namespace", fixed32),
)
