"""HyperDHT connect/listen between hyperpunch nodes on a local Python testnet (127.0.0.1).

Paths proven here: direct (an OPEN side), the LAN shortcut (same public host, ping of the private
address), hole punching through the full PEER_HOLEPUNCH protocol (probe round, punch round, fast
open and the consistent<->consistent punch); every connection echoes 1 MiB. Plus: a server
firewall refusing, a handshake made for another key refused, malformed PEER_HANDSHAKE /
PEER_HOLEPUNCH values ignored without breaking anything, and clean shutdown.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from dht_net import MIB, echo, peer, send_and_check_echo
from dht_net import testnet as local_testnet

from hyperpunch.crypto import hash as blake
from hyperpunch.dht import HyperDHT
from hyperpunch.dht.constants import Command, HandshakeMode
from hyperpunch.dht.errors import DHTError, PeerConnectionFailedError, PeerNotFoundError
from hyperpunch.dht.messages import Handshake, Holepunch, NoisePayload, UdxInfo, handshake, holepunch
from hyperpunch.dht.noise_wrap import NoiseWrap
from hyperpunch.dht.peer_rpc import peer_handshake
from hyperpunch.dht_rpc import RequestTimeoutError
from hyperpunch.encoding import Address, encode
from hyperpunch.errors import HyperpunchError
from hyperpunch.secretstream import SecretStream


async def _connect_and_echo(
    client: HyperDHT, server_node: HyperDHT, **connect_opts: object
) -> tuple[dict[str, object], dict[str, object]]:
    accepted: asyncio.Queue[SecretStream] = asyncio.Queue()

    async def on_connection(stream: SecretStream) -> None:
        accepted.put_nowait(stream)
        await echo(stream)

    server = server_node.create_server(on_connection=on_connection)
    kp = HyperDHT.key_pair(os.urandom(32))
    await server.listen(kp)
    stream = await asyncio.wait_for(client.connect(kp.public_key, **connect_opts), 30)  # type: ignore[arg-type]
    try:
        assert stream.remote_public_key == kp.public_key
        remote = await asyncio.wait_for(accepted.get(), 10)
        assert remote.remote_public_key == client.default_key_pair.public_key
        sent, got, n = await send_and_check_echo(stream, MIB)
        assert n == MIB and got == sent
        assert stream.handshake_hash == remote.handshake_hash
        return stream.user_data["dht"], remote.user_data["dht"]
    finally:
        await stream.aclose()
        await server.aclose()


async def test_connect_direct_echo() -> None:
    async with local_testnet() as bs, peer(bs) as a, peer(bs) as b:
        client_info, server_info = await _connect_and_echo(b, a)
        assert client_info["path"] == "direct" and server_info["path"] == "direct"
        assert a.server_udx_socket is not None
        assert client_info["remote_address"] == a.server_udx_socket.address()
        assert b.stats()["connects"]["direct"] == 1  # type: ignore[index]


async def test_connect_to_server_on_persistent_node() -> None:
    """A server on a persistent node answers the handshake itself (no relaying, JS FROM_CLIENT reply)."""
    async with local_testnet() as bs, peer(bs, ephemeral=False) as a, peer(bs) as b:
        assert a.id is not None
        client_info, server_info = await _connect_and_echo(b, a)
        assert client_info["path"] == "direct" and server_info["path"] == "direct"


async def test_connect_holepunched_fast_open() -> None:
    async with local_testnet() as bs, peer(bs, firewalled=True) as a, peer(bs, firewalled=True) as b:
        client_info, server_info = await _connect_and_echo(b, a, local_connection=False)
        assert client_info["path"] == "holepunched" and server_info["path"] == "holepunched"
        # both ends landed on holepunch sockets, not on the DHT sockets
        main = {a.server_udx_socket.address()[1], a.client_socket.address()[1]}  # type: ignore[union-attr]
        assert client_info["remote_address"][1] not in main  # type: ignore[index]


async def test_connect_holepunched_punch_round() -> None:
    """Without fast open the client only opens the path in the punch round (both sides punch)."""
    async with local_testnet() as bs, peer(bs, firewalled=True) as a, peer(bs, firewalled=True) as b:
        client_info, server_info = await _connect_and_echo(b, a, local_connection=False, fast_open=False)
        assert client_info["path"] == "holepunched" and server_info["path"] == "holepunched"
        assert b.stats()["punches"]["consistent"] == 1  # type: ignore[index]
        assert a.stats()["punches"]["consistent"] == 1  # type: ignore[index]


async def test_connect_lan_shortcut() -> None:
    async with local_testnet() as bs, peer(bs, firewalled=True) as a, peer(bs, firewalled=True) as b:
        client_info, server_info = await _connect_and_echo(b, a, local_connection=True)
        assert client_info["path"] == "lan" and server_info["path"] == "lan"
        assert client_info["remote_address"] == a.server_udx_socket.address()  # type: ignore[union-attr]


async def test_server_firewall_rejects() -> None:
    async with local_testnet() as bs, peer(bs) as a, peer(bs) as b:
        seen: list[tuple[bytes, NoisePayload, Address]] = []

        def firewall(remote_public_key: bytes, payload: NoisePayload, addr: Address) -> bool:
            seen.append((remote_public_key, payload, addr))
            return True

        connections: list[SecretStream] = []
        server = a.create_server(firewall=firewall, on_connection=connections.append)
        kp = HyperDHT.key_pair()
        await server.listen(kp)
        with pytest.raises(PeerConnectionFailedError):
            await asyncio.wait_for(b.connect(kp.public_key), 40)
        assert seen and all(pk == b.default_key_pair.public_key for pk, _p, _a in seen)
        assert seen[0][1].udx is not None  # the firewall saw the client's payload
        assert connections == [] and not server.connections
        await server.aclose()


async def test_async_firewall_allows() -> None:
    async with local_testnet() as bs, peer(bs) as a, peer(bs) as b:

        async def firewall(remote_public_key: bytes, _payload: NoisePayload, _addr: Address) -> bool:
            await asyncio.sleep(0)
            return remote_public_key == b.default_key_pair.public_key  # True = reject

        server = a.create_server(firewall=firewall, on_connection=echo)
        kp = HyperDHT.key_pair()
        await server.listen(kp)
        with pytest.raises(PeerConnectionFailedError):
            await asyncio.wait_for(b.connect(kp.public_key), 40)
        other = HyperDHT.key_pair()
        stream = await asyncio.wait_for(b.connect(kp.public_key, key_pair=other), 20)
        assert stream.remote_public_key == kp.public_key
        await stream.aclose()
        await server.aclose()


async def test_unknown_key_not_found() -> None:
    async with local_testnet() as bs, peer(bs) as b:
        with pytest.raises(PeerNotFoundError) as info:
            await asyncio.wait_for(b.connect(HyperDHT.key_pair().public_key), 30)
        assert info.value.code == "PEER_NOT_FOUND"


async def _relays_for(node: HyperDHT, public_key: bytes) -> list[Address]:
    found = [r.from_.address async for r in node.find_peer(public_key)]
    assert found, "the server's announce must be findable"
    return found


async def test_handshake_for_wrong_key_refused() -> None:
    """A noise message built for another static key cannot be read by the server: no reply."""
    async with local_testnet() as bs, peer(bs) as a, peer(bs) as b:
        server = a.create_server(on_connection=echo)
        kp = HyperDHT.key_pair()
        await server.listen(kp)
        relays = await _relays_for(b, kp.public_key)
        wrong = NoiseWrap(b.default_key_pair, HyperDHT.key_pair().public_key)
        noise = wrong.send(NoisePayload(udx=UdxInfo(1)))
        with pytest.raises(RequestTimeoutError):
            await peer_handshake(b, blake(kp.public_key), noise, relays[0])
        assert not server.connections
        # the server is unharmed: a real client still connects
        stream = await asyncio.wait_for(b.connect(kp.public_key), 20)
        await stream.aclose()
        await server.aclose()


async def test_malformed_handshake_and_holepunch_ignored() -> None:
    async with local_testnet() as bs, peer(bs) as a, peer(bs) as b:
        server = a.create_server(on_connection=echo)
        kp = HyperDHT.key_pair()
        await server.listen(kp)
        target = blake(kp.public_key)
        relays = await _relays_for(b, kp.public_key)
        server_addr = a.server_udx_socket.address()  # type: ignore[union-attr]
        here = Address("127.0.0.1", 9)
        bad_values: list[tuple[int, bytes | None]] = [
            (Command.PEER_HANDSHAKE, None),
            (Command.PEER_HANDSHAKE, b""),
            (Command.PEER_HANDSHAKE, os.urandom(40)),
            (Command.PEER_HANDSHAKE, b"\x00\x00\xff"),  # noise length past the end
            (Command.PEER_HANDSHAKE, encode(handshake, Handshake(HandshakeMode.FROM_CLIENT, os.urandom(96)))),
            (Command.PEER_HANDSHAKE, encode(handshake, Handshake(HandshakeMode.FROM_CLIENT, b""))),
            (Command.PEER_HANDSHAKE, encode(handshake, Handshake(9, os.urandom(32)))),
            (Command.PEER_HANDSHAKE, encode(handshake, Handshake(HandshakeMode.FROM_SERVER, os.urandom(8)))),
            (Command.PEER_HANDSHAKE, encode(handshake, Handshake(HandshakeMode.REPLY, os.urandom(8), here))),
            (Command.PEER_HOLEPUNCH, None),
            (Command.PEER_HOLEPUNCH, os.urandom(3)),
            (
                Command.PEER_HOLEPUNCH,
                encode(holepunch, Holepunch(HandshakeMode.FROM_RELAY, 0, os.urandom(64), here)),
            ),
            (
                Command.PEER_HOLEPUNCH,
                encode(holepunch, Holepunch(HandshakeMode.FROM_RELAY, 2**40, b"", here)),
            ),
            (
                Command.PEER_HOLEPUNCH,
                encode(holepunch, Holepunch(HandshakeMode.FROM_CLIENT, 0, os.urandom(80))),
            ),
            (Command.PEER_HOLEPUNCH, encode(holepunch, Holepunch(7, 0, b"x"))),
        ]
        sends = []
        for to in {(h, p) for h, p in [*relays, server_addr]}:
            for cmd, value in bad_values:
                sends.append(b.request(to, cmd, target=target, value=value, retry=False))
                sends.append(b.request(to, cmd, target=None, value=value, retry=False))
        results = await asyncio.gather(*sends, return_exceptions=True)
        for r in results:  # silence (a timeout) or a harmless reply; never a crash
            if isinstance(r, BaseException):
                assert isinstance(r, (RequestTimeoutError, DHTError)), r
        assert not server.connections
        stream = await asyncio.wait_for(b.connect(kp.public_key), 20)
        sent, got, _n = await send_and_check_echo(stream, 4096)
        assert sent == got
        await stream.aclose()
        await server.aclose()


async def test_close_leaves_nothing_running() -> None:
    before = set(asyncio.all_tasks())
    async with local_testnet() as bs:
        async with peer(bs, firewalled=True) as a, peer(bs, firewalled=True) as b:
            server = a.create_server(on_connection=echo)
            kp = HyperDHT.key_pair()
            await server.listen(kp)
            stream = await asyncio.wait_for(b.connect(kp.public_key, local_connection=False), 30)
            stream.write(b"hello")
            assert await asyncio.wait_for(stream.read(), 10) == b"hello"
            # close the nodes with the stream still open: everything must go
        assert a.destroyed and b.destroyed
        assert not a.raw_streams and not b.raw_streams
        assert not a.socket_pool.sockets and not b.socket_pool.sockets
    await asyncio.sleep(0.05)
    left = {t for t in asyncio.all_tasks() if t not in before and not t.done()}
    assert not left, left


async def test_listen_twice_refused() -> None:
    async with local_testnet(3) as bs, peer(bs) as a:
        kp = HyperDHT.key_pair()
        s1 = a.create_server()
        await s1.listen(kp)
        s2 = a.create_server()
        with pytest.raises(DHTError) as info:
            await s2.listen(kp)
        assert info.value.code == "KEYPAIR_ALREADY_USED"
        with pytest.raises(DHTError) as info2:
            await s1.listen(kp)
        assert info2.value.code == "ALREADY_LISTENING"
        assert s1.address() == {"public_key": kp.public_key, "host": a.host, "port": a.port}
        await s1.aclose()
        await s2.aclose()


async def test_server_iterates_accepted_connections() -> None:
    async with local_testnet(4) as bs, peer(bs) as a, peer(bs) as b:
        server = a.create_server()
        kp = HyperDHT.key_pair()
        await server.listen(kp)
        stream = await asyncio.wait_for(b.connect(kp.public_key), 20)
        conn = await asyncio.wait_for(server.__anext__(), 10)
        assert conn in server.connections and not conn.is_initiator
        stream.write(b"ping")
        assert await asyncio.wait_for(conn.read(), 10) == b"ping"
        await stream.aclose()
        await server.aclose()
        assert [c async for c in server] == []  # closed: the iteration ends


async def test_server_close_with_open_connection_returns_and_dht_close_ends_it() -> None:
    async with local_testnet(4) as bs, peer(bs) as b:
        a = HyperDHT(bootstrap=bs, host="127.0.0.1")
        try:
            await a.ready()
            server = a.create_server()
            kp = HyperDHT.key_pair()
            await server.listen(kp)
            stream = await asyncio.wait_for(b.connect(kp.public_key), 20)
            conn = await asyncio.wait_for(server.__anext__(), 10)
            await asyncio.wait_for(server.aclose(), 10)  # used to hang on the open connection
            # like JS, the connection outlives server.close(); the DHT node still owns it
            stream.write(b"still here")
            assert await asyncio.wait_for(conn.read(), 10) == b"still here"
        finally:
            await asyncio.wait_for(a.aclose(), 10)
        # closing the server's DHT node destroyed the connection: the client sees it end
        ended = False
        try:
            ended = await asyncio.wait_for(stream.read(), 20) is None
        except HyperpunchError:
            ended = True
        assert ended
        await stream.aclose()


async def test_unread_accepted_connections_are_not_kept_after_they_end() -> None:
    async with local_testnet(4) as bs, peer(bs) as a, peer(bs) as b:
        server = a.create_server()
        kp = HyperDHT.key_pair()
        await server.listen(kp)
        for _ in range(3):
            stream = await asyncio.wait_for(b.connect(kp.public_key), 20)
            await stream.aclose()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while (server.connections or server._accepted) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert not server.connections
        assert not server._accepted
        await server.aclose()
