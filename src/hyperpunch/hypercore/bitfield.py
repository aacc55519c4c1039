"""The in-memory block bitfield (JS ``hypercore/lib/bitfield.js``).

Invariants: bit ``i`` is bit ``i & 7`` of byte ``i >> 3`` of a 4096-byte page (32768 bits), the
little-endian layout of JS's ``Uint32Array`` words, so :meth:`Bitfield.to_buffer` and the words of
:meth:`Bitfield.want` equal JS's. Pages are created only when a bit is set to true (as in JS).
Queries answer the true value: ``first_set`` / ``last_set`` / ``last_unset`` give ``-1`` when
there is no such bit; ``first_unset`` always finds one (bits past the end are unset). Range
operations work a byte / a page at a time (C-speed slices and big-int bit scans), never per bit.
"""

from __future__ import annotations

import struct
from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import NamedTuple

__all__ = [
    "BITS_PER_PAGE",
    "BITS_PER_SEGMENT",
    "BYTES_PER_PAGE",
    "Bitfield",
    "WantRange",
]

BITS_PER_PAGE = 32768
BYTES_PER_PAGE = BITS_PER_PAGE // 8
WORDS_PER_PAGE = BYTES_PER_PAGE // 4
BITS_PER_SEGMENT = 2097152
PAGES_PER_SEGMENT = BITS_PER_SEGMENT // BITS_PER_PAGE
_INITIAL_WORDS = 1024
_PAGE_MASK = (1 << BITS_PER_PAGE) - 1
_ONES = b"\xff" * BYTES_PER_PAGE
_ZEROS = bytes(BYTES_PER_PAGE)
_from_bytes = int.from_bytes


class WantRange(NamedTuple):
    """A slice of the bitfield for a ``bitfield`` message: uint32 ``words`` starting at bit ``start``."""

    start: int
    words: list[int]


def _lowest(x: int) -> int:
    return (x & -x).bit_length() - 1


class Bitfield:
    """Which blocks a core has. ``Bitfield(buffer)`` resumes from :meth:`to_buffer` bytes."""

    __slots__ = ("_keys", "_pages", "_seg0_words")

    def __init__(self, buffer: bytes | None = None) -> None:
        self._pages: dict[int, bytearray] = {}
        self._keys: list[int] = []  # sorted page indices
        self._seg0_words = 0  # allocated words of segment 0, grown like JS (x4)
        if buffer is not None:
            total = len(buffer) // 4  # words, like JS's Uint32Array view
            words_per_segment = BITS_PER_SEGMENT // 32
            for w in range(0, total, words_per_segment):
                seg_words = min(words_per_segment, total - w)
                alloc = words_per_segment
                if w == 0:
                    alloc = _INITIAL_WORDS
                    while alloc < seg_words:
                        alloc *= 4
                first = w // WORDS_PER_PAGE
                for k in range(alloc // WORDS_PER_PAGE):
                    page = self._page(first + k)
                    lo = (w + k * WORDS_PER_PAGE) * 4
                    hi = min(lo + BYTES_PER_PAGE, (w + seg_words) * 4)
                    if hi > lo:
                        page[: hi - lo] = buffer[lo:hi]

    # pages ----------------------------------------------------------------------------------------

    def _page(self, p: int) -> bytearray:
        page = self._pages.get(p)
        if page is None:
            page = self._pages[p] = bytearray(BYTES_PER_PAGE)
            insort(self._keys, p)
            if p < PAGES_PER_SEGMENT:
                end = (p + 1) * WORDS_PER_PAGE
                if self._seg0_words == 0:
                    self._seg0_words = _INITIAL_WORDS
                if end >= self._seg0_words:
                    while self._seg0_words < end:
                        self._seg0_words *= 4
        return page

    # single bits ----------------------------------------------------------------------------------

    def get(self, index: int) -> bool:
        page = self._pages.get(index >> 15)
        if page is None:
            return False
        j = index & (BITS_PER_PAGE - 1)
        return bool(page[j >> 3] >> (j & 7) & 1)

    def set(self, index: int, value: bool) -> bool:
        """Set one bit; True when it changed."""
        p = index >> 15
        page = self._pages.get(p)
        if page is None:
            if not value:
                return False
            page = self._page(p)
        j = index & (BITS_PER_PAGE - 1)
        b = j >> 3
        mask = 1 << (j & 7)
        old = page[b]
        new = old | mask if value else old & ~mask
        page[b] = new
        return new != old

    def set_range(self, start: int, end: int, value: bool) -> None:
        """Set bits ``start <= i < end``."""
        while start < end:
            p = start >> 15
            base = p * BITS_PER_PAGE
            last = min(end - base, BITS_PER_PAGE)
            page = self._pages.get(p)
            if page is None and value:
                page = self._page(p)
            if page is not None:
                _fill(page, start - base, last, value)
            start = base + last

    # searches -------------------------------------------------------------------------------------

    def find_first(self, value: bool, position: int) -> int:
        return self.first_set(position) if value else self.first_unset(position)

    def find_last(self, value: bool, position: int) -> int:
        return self.last_set(position) if value else self.last_unset(position)

    def first_set(self, position: int) -> int:
        position = max(position, 0)
        keys = self._keys
        i = bisect_left(keys, position >> 15)
        while i < len(keys):
            p = keys[i]
            base = p * BITS_PER_PAGE
            j = position - base if position > base else 0
            page = self._pages[p]
            if page == _ZEROS:
                i += 1
                continue
            x = _from_bytes(page, "little") >> j
            if x:
                return base + j + _lowest(x)
            i += 1
        return -1

    def first_unset(self, position: int) -> int:
        position = max(position, 0)
        p = position >> 15
        j = position & (BITS_PER_PAGE - 1)
        while True:
            page = self._pages.get(p)
            if page is None:
                return p * BITS_PER_PAGE + j
            if page == _ONES:  # full page: memcmp, no big-int work
                p += 1
                j = 0
                continue
            x = (~_from_bytes(page, "little") & _PAGE_MASK) >> j
            if x:
                return p * BITS_PER_PAGE + j + _lowest(x)
            p += 1
            j = 0

    def last_set(self, position: int) -> int:
        if position < 0:
            return -1
        keys = self._keys
        i = bisect_left(keys, (position >> 15) + 1) - 1
        while i >= 0:
            p = keys[i]
            base = p * BITS_PER_PAGE
            j = min(position - base, BITS_PER_PAGE - 1)
            page = self._pages[p]
            if page == _ZEROS:
                i -= 1
                continue
            x = _from_bytes(page, "little") & ((2 << j) - 1)
            if x:
                return base + x.bit_length() - 1
            i -= 1
        return -1

    def last_unset(self, position: int) -> int:
        if position < 0:
            return -1
        p = position >> 15
        j = position & (BITS_PER_PAGE - 1)
        while p >= 0:
            page = self._pages.get(p)
            if page is None:
                return p * BITS_PER_PAGE + j
            if page == _ONES:
                p -= 1
                j = BITS_PER_PAGE - 1
                continue
            x = ~_from_bytes(page, "little") & ((2 << j) - 1)
            if x:
                return p * BITS_PER_PAGE + x.bit_length() - 1
            p -= 1
            j = BITS_PER_PAGE - 1
        return -1

    def has_set(self, start: int, length: int) -> bool:
        i = self.first_set(start)
        return i != -1 and i < start + length

    def has_unset(self, start: int, length: int) -> bool:
        return length > 0 and self.first_unset(start) < start + length

    def count(self, start: int, length: int, value: bool) -> int:
        """How many bits in ``[start, start + length)`` equal ``value``."""
        end = start + length
        total = 0
        pos = start
        while pos < end:
            p = pos >> 15
            base = p * BITS_PER_PAGE
            j = pos - base
            last = min(end - base, BITS_PER_PAGE)
            page = self._pages.get(p)
            if page is not None:
                x = (_from_bytes(page, "little") >> j) & ((1 << (last - j)) - 1)
                total += x.bit_count()
            pos = base + last
        return total if value else length - total

    def count_set(self, start: int, length: int) -> int:
        return self.count(start, length, True)

    def count_unset(self, start: int, length: int) -> int:
        return self.count(start, length, False)

    # bulk -----------------------------------------------------------------------------------------

    def merge(self, other: Bitfield, length: int) -> None:
        """Set every bit set in ``other`` below ``length``."""
        i = 0
        while i < length:
            start = other.first_set(i)
            if start == -1 or start >= length:
                break
            i = other.first_unset(start)
            if i > length:
                i = length
            self.set_range(start, i, True)

    def to_buffer(self, length: int) -> bytes:
        """The first ``ceil(length / 32768)`` pages as bytes (JS ``toBuffer``)."""
        pages = (length + BITS_PER_PAGE - 1) // BITS_PER_PAGE
        return b"".join(bytes(self._pages.get(p, _ZEROS)) for p in range(pages))

    def page_count(self) -> int:
        return self._keys[-1] + 1 if self._keys else 0

    def get_page(self, p: int) -> bytes | None:
        page = self._pages.get(p)
        return None if page is None else bytes(page)

    def has_page(self, p: int) -> bool:
        return p in self._pages

    def writable_page(self, p: int) -> bytearray:
        """Page ``p``'s bytes, to write into in place (allocated zeroed on first use)."""
        return self._page(p)

    def page_indices(self) -> list[int]:
        """The indices of the allocated pages, ascending."""
        return list(self._keys)

    def _segment_words(self, s: int) -> int:
        if s == 0:
            return self._seg0_words
        lo = bisect_left(self._keys, s * PAGES_PER_SEGMENT)
        has = lo < len(self._keys) and self._keys[lo] < (s + 1) * PAGES_PER_SEGMENT
        return BITS_PER_SEGMENT // 32 if has else 0

    def want(self, start: int, length: int) -> Iterator[WantRange]:
        """The allocated words covering ``[start, start + length)``, a segment at a time (JS ``want``)."""
        if start & 31:
            d = start & 31
            start -= d
            length += d
        j = start & (BITS_PER_SEGMENT - 1)
        s = start // BITS_PER_SEGMENT
        while length > 0:
            words = self._segment_words(s)
            if words:
                end = min(j + length, BITS_PER_SEGMENT)
                if end & 31:
                    end += 32 - (end & 31)
                w0 = j // 32
                w1 = min(end // 32, words)
                yield WantRange(s * BITS_PER_SEGMENT + j, self._words(s, w0, w1))
            j = 0
            s += 1
            length -= BITS_PER_SEGMENT

    def _words(self, s: int, w0: int, w1: int) -> list[int]:
        out: list[int] = []
        first_page = s * PAGES_PER_SEGMENT
        w = w0
        while w < w1:
            p = first_page + w // WORDS_PER_PAGE
            pw = w % WORDS_PER_PAGE
            n = min(WORDS_PER_PAGE - pw, w1 - w)
            page = self._pages.get(p)
            if page is None:
                out.extend([0] * n)
            else:
                out.extend(struct.unpack_from(f"<{n}I", page, pw * 4))
            w += n
        return out


def _fill(page: bytearray, a: int, b: int, value: bool) -> None:
    """Set bits ``a <= i < b`` of one page."""
    if a >= b:
        return
    a8 = a >> 3
    b8 = b >> 3
    if a8 == b8:
        mask = ((1 << (b - a)) - 1) << (a & 7)
        page[a8] = page[a8] | mask if value else page[a8] & ~mask
        return
    if a & 7:
        mask = (0xFF << (a & 7)) & 0xFF
        page[a8] = page[a8] | mask if value else page[a8] & ~mask
        a8 += 1
    if a8 < b8:
        page[a8:b8] = (_ONES if value else _ZEROS)[: b8 - a8]
    if b & 7:
        mask = (1 << (b & 7)) - 1
        page[b8] = page[b8] | mask if value else page[b8] & ~mask
