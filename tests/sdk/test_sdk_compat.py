"""Compat cores (hypercore 10 / corestore 6, what hyper-sdk makes): the key is the signer's public
key, the writer shares no manifest, and a reader verifies upgrades against that key alone: a
core signed by anyone else is refused."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from hyperpunch import crypto
from hyperpunch.hypercore import Hypercore
from hyperpunch.hypercore.errors import InvalidSignatureError
from hyperpunch.hypercore.manifest import default_signer_manifest, manifest_hash
from hyperpunch.hypercore.messages import RequestBlock, RequestUpgrade
from hyperpunch.hypercore.replication import replicate
from hyperpunch.protomux import Protomux, memory_stream_pair


@contextlib.asynccontextmanager
async def linked(a: Hypercore, b: Hypercore) -> AsyncIterator[None]:
    s1, s2 = memory_stream_pair()
    ma, mb = Protomux(s1), Protomux(s2)
    replicate(a, ma, is_initiator=True, handshake_hash=b"\x07" * 64)
    replicate(b, mb, is_initiator=False, handshake_hash=b"\x07" * 64)
    try:
        yield
    finally:
        await ma.aclose()
        await mb.aclose()


def compat_writer(signer: crypto.KeyPair, key: bytes) -> Hypercore:
    return Hypercore(None, key, key_pair=signer, manifest=default_signer_manifest(key))


async def test_compat_core_replicates_without_a_manifest_on_the_wire() -> None:
    kp = crypto.key_pair(bytes([3]) * 32)
    async with compat_writer(kp, kp.public_key) as writer, Hypercore(None, kp.public_key) as reader:
        assert writer.key == kp.public_key != manifest_hash(default_signer_manifest(kp.public_key))
        assert writer.writable
        await writer.append([b"a", b"b"])
        assert reader.manifest is None
        async with linked(writer, reader):
            assert await reader.get(1) == b"b"
            assert reader.length == 2
            # the reader took the compat manifest of the key (none was sent)
            assert reader.manifest == default_signer_manifest(kp.public_key)
            await writer.append(b"c")
            assert await reader.get(2) == b"c"


async def test_compat_upgrade_signed_by_another_key_is_refused() -> None:
    """The same blocks and tree, signed by a forger's key: refused, and no manifest adopted."""
    owner = crypto.key_pair(bytes([4]) * 32)
    forger = crypto.key_pair(bytes([5]) * 32)
    async with (
        compat_writer(owner, owner.public_key) as real,
        compat_writer(forger, forger.public_key) as fake,
        Hypercore(None, owner.public_key) as reader,
    ):
        for core in (real, fake):
            await core.append([b"same", b"blocks"])
        want = {"block": RequestBlock(0, 0), "upgrade": RequestUpgrade(0, 2)}
        forged = fake.core.proof(**want)
        with pytest.raises(InvalidSignatureError):
            reader.core.verify_and_apply(forged)
        assert reader.length == 0 and reader.manifest is None
        assert reader.core.verify_and_apply(real.core.proof(**want))
        assert reader.length == 2 and reader.manifest == default_signer_manifest(owner.public_key)
