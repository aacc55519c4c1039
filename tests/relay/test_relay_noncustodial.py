"""The relay's non-custodial pieces on their own: the client-driven handshake (against a simulated
client that runs the Noise steps with its own key, and the node's local handshake on the other
side) and the pass-through stream core."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hyperpunch.crypto import KeyPair
from hyperpunch.dht import HyperDHT
from hyperpunch.dht.handshake import LocalHandshake
from hyperpunch.dht.messages import NoisePayload, UdxInfo
from hyperpunch.dht.noise_wrap import NoiseWrap, holepunch_secret
from hyperpunch.relay import messages as m
from hyperpunch.relay.errors import HandshakeDeniedError, RelayClosedError, RelayProtocolError
from hyperpunch.relay.messages import MessageType as T
from hyperpunch.relay.noncustodial import ClientHandshake, handshake_id, raw_stream
from hyperpunch.secretstream import SecretStream
from hyperpunch.secretstream.stream import ByteStreamTransport


class SimulatedClient:
    """A :class:`~hyperpunch.relay.noncustodial.NoiseLink` answering each step as the JS client
    does (``lib/handshake.js``): its own Noise IK with its secret key; ``deny`` refuses peers."""

    def __init__(self, key_pair: KeyPair, remote_public_key: bytes | None, *, deny: bool = False) -> None:
        self.wrap = NoiseWrap(key_pair, remote_public_key)
        self.noise = self.wrap.handshake
        self.deny = deny
        self.hs: ClientHandshake | None = None
        self.sent: list[tuple[int, Any]] = []
        self.forgotten: list[int] = []
        self.answer = True

    def send_message(self, type_: int, value: object) -> bool:
        self.sent.append((type_, value))
        if self.answer:
            asyncio.get_running_loop().call_soon(self._answer, type_, value)
        return True

    def forget_handshake(self, hid: int) -> None:
        self.forgotten.append(hid)

    def _answer(self, type_: int, value: Any) -> None:
        assert self.hs is not None
        step = self.noise.send if type_ == T.NOISE_SEND else self.noise.recv
        out = step(value.payload)
        complete = self.noise.complete
        initiator = self.wrap.is_initiator
        if not complete and not initiator and self.deny:
            self.hs.on_reply(m.NoiseReply(False, False, value.id, b"", self.noise.remote_static))
            return
        if complete:
            assert self.noise.hash is not None
            # remoteId: JS lib/handshake.js uses isInitiator = true for both roles
            reply = m.NoiseReply(
                initiator, True, value.id, out, None, bytes(32), holepunch_secret(self.noise.hash)
            )
        else:
            remote = None if initiator else self.noise.remote_static
            reply = m.NoiseReply(initiator, False, value.id, out, remote)
        self.hs.on_reply(reply)


def payload(udx_id: int) -> NoisePayload:
    return NoisePayload(udx=UdxInfo(udx_id, 0, False))


async def test_client_initiator_against_a_local_responder() -> None:
    client_kp, server_kp = HyperDHT.key_pair(), HyperDHT.key_pair()
    link = SimulatedClient(client_kp, server_kp.public_key)
    hs = ClientHandshake(
        link, 9, is_initiator=True, public_key=client_kp.public_key,
        remote_public_key=server_kp.public_key, remote_stream_alias=4,
    )  # fmt: skip
    link.hs = hs
    server = LocalHandshake(server_kp, None)
    msg1 = await hs.send(payload(11))
    sent = link.sent[0]
    assert sent[0] == T.NOISE_SEND
    assert (sent[1].is_initiator, sent[1].id, sent[1].remote_stream_alias) == (True, 9, 4)
    assert (await server.recv(msg1)).udx == UdxInfo(11, 0, False)
    assert server.remote_public_key == client_kp.public_key
    msg2 = await server.send(payload(22))
    got = await hs.recv(msg2)
    assert got.udx == UdxInfo(22, 0, False)
    assert link.sent[1][0] == T.NOISE_RECEIVE
    result, local = hs.final(), server.final()
    assert result.remote_public_key == server_kp.public_key
    assert result.holepunch_secret == local.holepunch_secret
    assert (result.hash, result.tx, result.rx) == (b"", b"", b"")  # no stream keys on the relay
    assert result.handshake_id == 9
    assert link.forgotten == [9]  # done: the session drops it


async def test_client_responder_against_a_local_initiator() -> None:
    client_kp, server_kp = HyperDHT.key_pair(), HyperDHT.key_pair()
    link = SimulatedClient(server_kp, None)  # the relayed client is the server here
    hs = ClientHandshake(
        link, 5, is_initiator=False, public_key=server_kp.public_key, remote_public_key=None, server_alias=3
    )
    link.hs = hs
    peer = LocalHandshake(client_kp, server_kp.public_key)
    remote = await hs.recv(await peer.send(payload(1)))
    assert remote.udx == UdxInfo(1, 0, False)
    assert link.sent[0][1].server_alias == 3
    assert hs.remote_public_key == client_kp.public_key  # from the client's reply
    reply = await hs.send(payload(2))
    assert (await peer.recv(reply)).udx == UdxInfo(2, 0, False)
    assert hs.final().holepunch_secret == peer.final().holepunch_secret


async def test_client_firewall_denies() -> None:
    client_kp, server_kp = HyperDHT.key_pair(), HyperDHT.key_pair()
    link = SimulatedClient(server_kp, None, deny=True)
    hs = ClientHandshake(link, 6, is_initiator=False, public_key=server_kp.public_key, remote_public_key=None)
    link.hs = hs
    peer = LocalHandshake(client_kp, server_kp.public_key)
    with pytest.raises(HandshakeDeniedError):
        await hs.recv(await peer.send(payload(1)))
    assert 6 in link.forgotten
    with pytest.raises(RelayProtocolError):
        hs.final()


async def test_session_leaving_fails_the_step_in_flight() -> None:
    kp = HyperDHT.key_pair()
    link = SimulatedClient(kp, HyperDHT.key_pair().public_key)
    link.answer = False
    hs = ClientHandshake(link, 7, is_initiator=True, public_key=kp.public_key, remote_public_key=bytes(32))
    link.hs = hs
    step = asyncio.ensure_future(hs.send(payload(1)))
    while not link.sent:
        await asyncio.sleep(0)
    with pytest.raises(RelayProtocolError):  # one step at a time
        await hs.send(payload(1))
    hs.close(RelayClosedError())
    with pytest.raises(RelayClosedError):
        await step
    assert 7 in link.forgotten


class Transport:
    """Just enough of a byte transport to see what a stream writes."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.eof = False
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def write_eof(self) -> None:
        self.eof = True

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


async def test_raw_stream_passes_bytes_through() -> None:
    kp, rkp = HyperDHT.key_pair(), HyperDHT.key_pair()
    link = SimulatedClient(kp, rkp.public_key)
    hs = ClientHandshake(
        link, 12, is_initiator=True, public_key=kp.public_key, remote_public_key=rkp.public_key
    )
    link.hs = hs
    server = LocalHandshake(rkp, None)
    await server.recv(await hs.send(payload(1)))
    await hs.recv(await server.send(payload(2)))
    stream = raw_stream(True, hs.final(), 5.0)
    assert isinstance(stream, SecretStream)
    assert handshake_id(stream) == 12
    transport = Transport()
    assert isinstance(transport, ByteStreamTransport)
    stream.protocol.connection_made(transport)  # type: ignore[arg-type]
    await asyncio.wait_for(stream.wait_open(), 5)
    assert transport.written == []  # no header of its own: the client's secret stream sends it
    assert stream.remote_public_key == rkp.public_key
    stream.write(b"\x05\x00\x00ciphertext")
    assert transport.written == [b"\x05\x00\x00ciphertext"]  # unchanged, unframed
    stream.protocol.data_received(b"\x01\x02")
    stream.protocol.data_received(b"\x03")
    assert await stream.read() == b"\x01\x02"
    assert await stream.read() == b"\x03"
    stream.protocol.eof_received()
    assert await stream.read() is None
    stream.write_eof()
    assert transport.eof or transport.closed
    plain = SecretStream(True)
    assert handshake_id(plain) is None
