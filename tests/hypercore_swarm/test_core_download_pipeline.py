"""A download() asked for before the first peer connects is pipelined like one asked for after.

Found while building ``hyperpunch core``: a swarm reader asks for its range before any peer exists;
the range used to stay unregistered with the replicator, so blocks came one request at a time.
"""

from __future__ import annotations

from core_helpers import block
from test_core_crash import _stream_pair

from hyperpunch.hypercore import Hypercore
from hyperpunch.hypercore.replication.protocol import DEFAULT_INFLIGHT


async def test_download_made_before_replicate_is_pipelined() -> None:
    n = 2_000
    async with Hypercore(None) as writer:
        await writer.append([block(i) for i in range(n)])
        async with Hypercore(None, writer.key) as reader, _stream_pair() as (a, b):
            handle = reader.download(0, n)  # no peer yet (as a reader does before the swarm finds one)
            widths: list[float] = []  # the peer's request pipeline width at each block received
            reader.on("download", lambda index, size, peer: widths.append(peer.max_inflight))
            writer.replicate(a)
            reader.replicate(b)
            await handle.done()
            assert await reader.has(0, n)
            # made after replicate(), the pipeline fills and widens (to hundreds of requests); here
            # it never fills, so it never widens beyond its start
            assert max(widths) > DEFAULT_INFLIGHT[0], f"pipeline stayed at {max(widths)}"
