"""hyperpunch.dht.constants and errors against hyperdht lib/constants.js and lib/errors.js."""

from __future__ import annotations

import pytest

from hyperpunch.dht import constants as k
from hyperpunch.dht import errors as e
from hyperpunch.encoding import Address
from hyperpunch.errors import LocalError, RemoteError
from refvectors import section

V = section("dht")["constants"]


def test_commands_firewall_error_codes() -> None:
    assert {c.name: int(c) for c in k.Command} == V["commands"]
    assert {c.name: int(c) for c in k.Firewall} == V["firewall"]
    assert {c.name: int(c) for c in k.Error} == V["error"]


def test_namespaces() -> None:
    ours = {
        "ANNOUNCE": k.NS_ANNOUNCE,
        "UNANNOUNCE": k.NS_UNANNOUNCE,
        "MUTABLE_PUT": k.NS_MUTABLE_PUT,
        "PEER_HANDSHAKE": k.NS_PEER_HANDSHAKE,
        "PEER_HOLEPUNCH": k.NS_PEER_HOLEPUNCH,
        "PLUGIN": k.NS_PLUGIN,
    }
    assert {name: ns.hex() for name, ns in ours.items()} == V["ns"]


def test_bootstrap_nodes() -> None:
    assert list(k.BOOTSTRAP_NODES) == V["bootstrapNodes"]
    assert k.DEFAULT_BOOTSTRAP[0] == Address("88.99.3.86", 49737)
    assert k.parse_bootstrap_node(V["bootstrapNodes"][1]) == (
        Address("142.93.90.113", 49737),
        "node2.hyperdht.org",
    )
    assert k.parse_bootstrap_node("127.0.0.1:10001") == (Address("127.0.0.1", 10001), None)
    with pytest.raises(e.DHTLocalError):
        k.parse_bootstrap_node("no-port")


@pytest.mark.parametrize("js", V["errors"], ids=lambda x: x["code"])
def test_every_js_error_code(js: dict[str, str]) -> None:
    cls = e.ERRORS_BY_CODE[js["code"]]
    err = e.dht_error(js["code"])
    assert isinstance(err, cls) and isinstance(err, e.DHTError)
    assert str(err) == js["message"]  # JS: "CODE: default message"
    assert err.code == js["code"] == js["name"]
    assert isinstance(err, LocalError) != isinstance(err, RemoteError)
    assert str(cls("custom")) == f"{js['code']}: custom"


def test_no_extra_error_codes() -> None:
    assert set(e.ERRORS_BY_CODE) == {x["code"] for x in V["errors"]}


def test_local_remote_split() -> None:
    local = {c for c, cls in e.ERRORS_BY_CODE.items() if issubclass(cls, e.DHTLocalError)}
    assert local == {
        "HANDSHAKE_UNFINISHED",
        "ALREADY_LISTENING",
        "KEYPAIR_ALREADY_USED",
        "NODE_DESTROYED",
        "STREAM_NOT_CONNECTED",
        "SUSPENDED",
    }
