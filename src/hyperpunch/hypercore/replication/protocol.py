"""The ``hypercore/alpha`` replication channel: constants, the capability check and remote bitfields
(JS ``lib/replicator.js`` top level, ``lib/remote-bitfield.js``).

Invariants:

* The channel is protomux protocol ``"hypercore/alpha"`` (alias ``"hypercore"``) with id = the core's
  discovery key, handshake = :data:`messages.handshake`, and the ten messages of
  :data:`messages.WIRE_MESSAGES` in that order (type ids 0..9).
* Our OPEN carries ``replication_capability(handshake_hash, our_role, key)``; the remote's must equal
  ``replication_capability(handshake_hash, not our_role, key)`` (the remote computed it with *its*
  role), else the channel's mux is destroyed with ``INVALID_CAPABILITY`` (as JS throws in ``onopen``).
* A :class:`RemoteBitfield` only records what a peer *claims*; nothing in it is trusted for storage.
  Claims are clamped (:data:`MAX_REMOTE_CLAIM`) so a peer announcing absurd ranges cannot make us
  allocate or loop in proportion to its numbers.
"""

from __future__ import annotations

import struct
from typing import Final

from hyperpunch.hypercore.bitfield import BITS_PER_PAGE, BYTES_PER_PAGE, Bitfield
from hyperpunch.secretstream.cipher import replication_capability

__all__ = [
    "DEFAULT_INFLIGHT",
    "INVALID_REQUEST",
    "MAX_BACKOFFS",
    "MAX_INVALID_REQUESTS",
    "MAX_REMOTE_CLAIM",
    "NOT_AVAILABLE",
    "PROTOCOL",
    "PROTOCOL_ALIASES",
    "WANT_BATCH",
    "RemoteBitfield",
    "expected_remote_capability",
    "local_capability",
]

PROTOCOL: Final = "hypercore/alpha"
PROTOCOL_ALIASES: Final = ("hypercore",)

# noData reasons (JS replicator.js)
NOT_AVAILABLE: Final = 1
INVALID_REQUEST: Final = 2
MAX_INVALID_REQUESTS: Final = 64
MAX_BACKOFFS: Final = MAX_INVALID_REQUESTS // 2

# JS DEFAULT_MAX_INFLIGHT is [16, 512], which over TCP means min * 3 = 48 requests in flight. We
# start at 32 and widen while the pipeline stays full, up to 512. (Proofs stay short however deep
# the pipeline: a request counts on the nodes earlier requests to the same peer bring.)
DEFAULT_INFLIGHT: Final = (32, 512)

# want batches in JS compat mode (lib/wants.js BATCH): one bitfield segment of 2^21 bits
WANT_BATCH: Final = 2097152

# how far past the lengths we know a remote's range/bitfield claims are recorded
MAX_REMOTE_CLAIM: Final = 1 << 24


def local_capability(handshake_hash: bytes, is_initiator: bool, key: bytes) -> bytes:
    """The capability we send in our OPEN (JS ``caps.replicate(isInitiator, key, hash)``)."""
    return replication_capability(handshake_hash, is_initiator, key)


def expected_remote_capability(handshake_hash: bytes, is_initiator: bool, key: bytes) -> bytes:
    """The capability the remote must send: computed with the remote's role (``not is_initiator``)."""
    return replication_capability(handshake_hash, not is_initiator, key)


class RemoteBitfield(Bitfield):
    """What a peer says it has (JS ``RemoteBitfield``): a sparse page bitfield plus word inserts."""

    __slots__ = ()

    def insert(self, start: int, words: list[int]) -> None:
        """Overwrite bits ``[start, start + 32 * len(words))`` with ``words`` (``start % 32 == 0``)."""
        if start & 31 or not words:
            return
        data = struct.pack(f"<{len(words)}I", *words)
        pos = start >> 3  # byte offset
        off = 0
        n = len(data)
        while off < n:
            p = (pos + off) // BYTES_PER_PAGE
            in_page = (pos + off) % BYTES_PER_PAGE
            take = min(BYTES_PER_PAGE - in_page, n - off)
            chunk = data[off : off + take]
            if not self.has_page(p) and chunk.count(0) == len(chunk):
                off += take
                continue
            page = self.writable_page(p)
            page[in_page : in_page + take] = chunk
            off += take

    def clear_pages(self, start: int) -> None:
        """Forget every claim at or after bit ``start`` (after a fork / truncation)."""
        p0 = start // BITS_PER_PAGE
        if start % BITS_PER_PAGE:
            self.set_range(start, (p0 + 1) * BITS_PER_PAGE, False)
            p0 += 1
        for p in [k for k in self.page_indices() if k >= p0]:
            self.set_range(p * BITS_PER_PAGE, (p + 1) * BITS_PER_PAGE, False)
