"""uint24 little-endian length-prefixed framing of the secret-stream raw byte stream.

Invariants:

* Every frame on the wire is ``uint24_le(len(body)) || body`` with ``0 <= len(body) <= 2**24 - 1``
  (JS ``writeUint24le`` and the ``_onrawdata`` parser of ``@hyperswarm/secret-stream``).
* :class:`FrameDecoder` accepts the byte stream cut into any chunks and yields the same bodies in
  the same order. A body wholly inside one chunk is returned as a ``memoryview`` of that chunk
  (no copy); a body spanning chunks is assembled once into its own ``bytearray``, which the
  decoder never touches again. Callers must not mutate a chunk they fed while they still hold
  bodies taken from it.
* The decoder cannot fail while bytes keep coming (every length is valid); a stream that ends
  inside a frame is detected with :attr:`FrameDecoder.has_partial` at end of stream.
"""

from __future__ import annotations

from typing import TypeAlias

from hyperpunch.secretstream.errors import MessageTooLargeError

BytesLike: TypeAlias = bytes | bytearray | memoryview

__all__ = [
    "FRAME_HEADER_BYTES",
    "MAX_FRAME_BODY",
    "BytesLike",
    "FrameDecoder",
    "encode_frame",
    "frame_header",
]

FRAME_HEADER_BYTES = 3
MAX_FRAME_BODY = 0xFFFFFF


def frame_header(length: int) -> bytes:
    """The 3-byte little-endian length prefix for a body of ``length`` bytes."""
    if not 0 <= length <= MAX_FRAME_BODY:
        raise MessageTooLargeError(f"a frame body holds at most {MAX_FRAME_BODY} bytes, not {length}")
    return length.to_bytes(3, "little")


def encode_frame(body: BytesLike) -> bytes:
    """``uint24_le(len(body)) || body``."""
    view = memoryview(body)
    return frame_header(view.nbytes) + view.tobytes()


class FrameDecoder:
    """Incremental decoder: :meth:`feed` chunks, get complete frame bodies back."""

    __slots__ = ("_filled", "_head", "_partial")

    def __init__(self) -> None:
        self._head = b""  # 0..2 bytes of a length prefix split across chunks
        self._partial: bytearray | None = None  # body being assembled across chunks
        self._filled = 0

    @property
    def has_partial(self) -> bool:
        """True when part of a frame (prefix or body) has been fed but not completed."""
        return self._partial is not None or bool(self._head)

    @property
    def buffered(self) -> int:
        """Bytes of the incomplete frame consumed so far (its prefix plus the body bytes seen)."""
        if self._partial is not None:
            return 3 + self._filled
        return len(self._head)

    def feed(self, data: BytesLike) -> list[memoryview | bytearray]:
        """Consume ``data`` and return every frame body it completes, in order."""
        view = memoryview(data)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        size = len(view)
        frames: list[memoryview | bytearray] = []
        offset = 0

        partial = self._partial
        if partial is not None:
            filled = self._filled
            take = min(len(partial) - filled, size)
            partial[filled : filled + take] = view[:take]
            filled += take
            offset = take
            if filled < len(partial):
                self._filled = filled
                return frames
            frames.append(partial)
            self._partial = None
            self._filled = 0
        elif self._head:
            head = self._head + bytes(view[: 3 - len(self._head)])
            offset = len(head) - len(self._head)
            if len(head) < 3:
                self._head = head
                return frames
            self._head = b""
            offset = self._start_body(int.from_bytes(head, "little"), view, offset, size, frames)

        while offset + 3 <= size:
            length = view[offset] | (view[offset + 1] << 8) | (view[offset + 2] << 16)
            offset = self._start_body(length, view, offset + 3, size, frames)

        if offset < size:
            self._head = bytes(view[offset:])
        return frames

    def _start_body(
        self, length: int, view: memoryview, start: int, size: int, frames: list[memoryview | bytearray]
    ) -> int:
        end = start + length
        if end <= size:
            frames.append(view[start:end])
            return end
        partial = bytearray(length)
        have = size - start
        partial[:have] = view[start:]
        self._partial = partial
        self._filled = have
        return size
