"""The random-NAT punch strategies, driven on loopback by forcing one side's NAT verdict.

On 127.0.0.1 every node sees the same address for a socket, so the real analysis says
CONSISTENT. Here one side's holepunch sockets are told their NAT is RANDOM (the analysis is a
seam: ``HyperDHT.nat_factory``): that side then advertises only its host (port 0), opens up to
256 "birthday" sockets toward the other side's verified address, while the consistent side sends
probes to random ports of the random side's host. The connection must come through one of the
birthday sockets, and the random-punch throttle must then refuse a second random punch within
the interval (HOLEPUNCH_ABORTED without a relay), as JS does.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from dht_net import MIB, echo, peer, send_and_check_echo
from dht_net import testnet as local_testnet

from hyperpunch.dht import HyperDHT
from hyperpunch.dht.constants import Firewall
from hyperpunch.dht.errors import DHTError
from hyperpunch.dht.nat import NatAnalysis
from hyperpunch.secretstream import SecretStream


class RandomNat(NatAnalysis):
    """A NAT analysis that concludes RANDOM wherever the real one would conclude CONSISTENT."""

    def _update_firewall(self) -> None:
        super()._update_firewall()
        if self.firewall == Firewall.CONSISTENT:
            self.firewall = Firewall.RANDOM


@pytest.mark.parametrize("random_side", ["server", "client"])
async def test_random_nat_birthday_punch(random_side: str) -> None:
    async with (
        local_testnet(6) as bs,
        peer(bs, firewalled=True) as a,
        peer(bs, firewalled=True) as b,
    ):
        (a if random_side == "server" else b).nat_factory = RandomNat
        accepted: asyncio.Queue[SecretStream] = asyncio.Queue()

        async def on_connection(stream: SecretStream) -> None:
            accepted.put_nowait(stream)
            await echo(stream)

        server = a.create_server(on_connection=on_connection)
        kp = HyperDHT.key_pair(os.urandom(32))
        await server.listen(kp)
        stream = await asyncio.wait_for(b.connect(kp.public_key, local_connection=False, fast_open=False), 40)
        remote = await asyncio.wait_for(accepted.get(), 10)
        assert stream.user_data["dht"]["path"] == "holepunched"
        assert remote.user_data["dht"]["path"] == "holepunched"
        random_node = a if random_side == "server" else b
        assert random_node.stats()["punches"]["random"] == 1  # type: ignore[index]
        # the birthday side opened extra sockets and connected through one of them
        assert random_node.socket_pool.stats["sockets_added"] > 2
        sent, got, n = await send_and_check_echo(stream, MIB)
        assert n == MIB and sent == got
        # a second random punch right away is refused by the throttle (no relay to wait on)
        with pytest.raises(DHTError) as info:
            await asyncio.wait_for(b.connect(kp.public_key, local_connection=False, fast_open=False), 40)
        assert info.value.code == "HOLEPUNCH_ABORTED"
        await stream.aclose()
        await server.aclose()
