"""NAT analysis and LAN address matching against the pinned JS (interop/scripts/dht-conn-nat.js).

Random sample sequences (fixed seed) go through ``hyperdht/lib/nat.js`` and through
:class:`hyperpunch.dht.nat.NatAnalysis`; after every sample the firewall verdict, the advertised
addresses and the sample count must be the JS ones. Same for ``Holepuncher.matchAddress``.
Also the bogon classes (JS ``bogon``) used for the LAN shortcut, and the punch strategy table
(the branches of JS ``Holepuncher._punch``).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from hyperpunch.dht.constants import Firewall
from hyperpunch.dht.holepuncher import is_bogon, is_private, is_reserved, match_address, punch_strategy
from hyperpunch.dht.nat import NatAnalysis
from hyperpunch.encoding import Address
from jsref import run_node_json

pytestmark = pytest.mark.interop


def _cases(rng: random.Random) -> dict[str, Any]:
    nat = []
    hosts = ["10.0.0.1", "10.0.0.2", "88.1.2.3", "88.1.2.4"]
    for i in range(300):
        n = rng.randint(1, 8)
        ports = [rng.choice([4000, 4001, 4002, rng.randint(1000, 65000)]) for _ in range(n)]
        samples = []
        for k in range(n):
            host = rng.choice(hosts[: rng.randint(1, len(hosts))])
            frm = [f"1.1.1.{rng.randint(1, 6)}", rng.choice([10, 11])]
            samples.append({"addr": [host, ports[k]], "from": frm})
            if k and rng.random() < 0.2:
                samples.append(dict(samples[-2]))  # a repeated node: counts once
        case: dict[str, Any] = {"firewalled": i % 7 != 0, "samples": samples}
        if rng.random() < 0.2:
            case["freezeAt"] = rng.randint(0, len(samples))
        nat.append(case)
    match = []
    nets = ["192.168.1.", "192.168.2.", "192.167.1.", "10.0.0.", "172.16.5."]
    for _ in range(200):
        mine = [[rng.choice(nets) + str(rng.randint(1, 9)), 1] for _ in range(rng.randint(1, 3))]
        theirs = [[rng.choice(nets) + str(rng.randint(1, 9)), 2] for _ in range(rng.randint(0, 3))]
        match.append({"mine": mine, "theirs": theirs})
    bogon = ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.31.0.1", "172.32.0.1", "100.64.0.1", "100.128.0.1"]
    bogon += ["169.254.1.1", "192.0.2.2", "192.0.0.7", "0.0.0.0", "224.0.0.1", "240.1.1.1", "198.18.0.1"]
    bogon += ["198.51.100.3", "203.0.113.9", "88.99.3.86", "255.255.255.255", "192.167.1.1"]
    bogon += [
        f"{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}"
        for _ in range(300)
    ]
    return {"nat": nat, "match": match, "bogon": bogon}


def test_nat_and_match_address_like_js() -> None:
    cases = _cases(random.Random(20240611))
    js = run_node_json("dht-conn-nat.js", input_obj=cases)
    for case, steps in zip(cases["nat"], js["nat"], strict=True):
        n = NatAnalysis(case["firewalled"])
        for i, (sample, want) in enumerate(zip(case["samples"], steps, strict=True)):
            if case.get("freezeAt") == i:
                n.freeze()
            n.add(Address(*sample["addr"]), Address(*sample["from"]))
            got = {
                "firewall": int(n.firewall),
                "addresses": None if n.addresses is None else [[a.host, a.port] for a in n.addresses],
                "sampled": n.sampled,
            }
            assert got == want, (case, i)
    for case, want in zip(cases["match"], js["match"], strict=True):
        best = match_address([Address(*a) for a in case["mine"]], [Address(*a) for a in case["theirs"]])
        assert (None if best is None else [best.host, best.port]) == want, case
    for host, want in zip(cases["bogon"], js["bogon"], strict=True):
        assert [is_private(host), is_reserved(host), is_bogon(host)] == want, host


def test_punch_strategy_table() -> None:
    C, OPEN, R, U = Firewall.CONSISTENT, Firewall.OPEN, Firewall.RANDOM, Firewall.UNKNOWN
    assert punch_strategy(C, C, False) == "consistent"
    assert punch_strategy(OPEN, C, False) == "consistent"  # OPEN is coerced to CONSISTENT
    assert punch_strategy(C, R, False) is None  # a random remote needs a verified address
    assert punch_strategy(C, R, True) == "random_probes"
    assert punch_strategy(R, C, True) == "birthday"
    assert punch_strategy(R, R, True) is None
    assert punch_strategy(U, C, True) is None
