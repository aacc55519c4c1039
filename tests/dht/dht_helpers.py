"""Convert between the JSON form of the JS vectors (camelCase keys, hex bytes, {host, port}) and
hyperpunch.dht.messages values."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from hyperpunch.dht import messages as m
from hyperpunch.encoding import Address

_BYTES = {"noise", "payload", "public_key", "token", "remote_token", "refresh", "signature", "value"}


def camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda g: g.group(1).upper(), name)


def to_js(v: Any) -> Any:
    """A decoded hyperpunch value in the JSON form the JS vectors use for decoded values."""
    if v is None:
        return None
    if isinstance(v, Address):
        return {"host": v.host, "port": v.port}
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, list):
        return [to_js(x) for x in v]
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {camel(f.name): to_js(getattr(v, f.name)) for f in dataclasses.fields(v)}
    return v


def _addr(o: Any) -> Address | None:
    return None if o is None else Address(o["host"], o["port"])


def _addrs(o: Any) -> list[Address] | None:
    return None if o is None else [Address(a["host"], a["port"]) for a in o]


def _b(o: Any) -> bytes | None:
    return None if o is None else bytes.fromhex(o)


def _peer(o: dict[str, Any]) -> m.Peer:
    return m.Peer(bytes.fromhex(o["publicKey"]), _addrs(o.get("relayAddresses")) or [])


def _noise_payload(o: dict[str, Any]) -> m.NoisePayload:
    hp = o.get("holepunch")
    udx = o.get("udx")
    rt = o.get("relayThrough")
    return m.NoisePayload(
        error=o["error"],
        firewall=o["firewall"],
        holepunch=None
        if hp is None
        else m.HolepunchInfo(
            hp["id"],
            [m.RelayInfo(Address(**r["relayAddress"]), Address(**r["peerAddress"])) for r in hp["relays"]],
        ),
        addresses4=_addrs(o.get("addresses4")) or [],
        addresses6=_addrs(o.get("addresses6")) or [],
        udx=None if udx is None else m.UdxInfo(udx["id"], udx["seq"], bool(udx.get("reusableSocket", False))),
        secret_stream=None if o.get("secretStream") is None else m.SecretStreamInfo(),
        relay_through=None
        if rt is None
        else m.RelayThroughInfo(bytes.fromhex(rt["publicKey"]), bytes.fromhex(rt["token"])),
        relay_addresses=_addrs(o.get("relayAddresses")),
    )


def _holepunch_payload(o: dict[str, Any]) -> m.HolepunchPayload:
    return m.HolepunchPayload(
        error=o["error"],
        firewall=o["firewall"],
        round=o["round"],
        connected=bool(o.get("connected", False)),
        punching=bool(o.get("punching", False)),
        addresses=_addrs(o.get("addresses")),
        remote_address=_addr(o.get("remoteAddress")),
        token=_b(o.get("token")),
        remote_token=_b(o.get("remoteToken")),
    )


def _announce(o: dict[str, Any]) -> m.Announce:
    p = o.get("peer")
    return m.Announce(
        None if p is None else _peer(p),
        _b(o.get("refresh")),
        _b(o.get("signature")),
        o.get("bump", 0),
    )


BUILDERS: dict[str, Any] = {
    "handshake": lambda o: m.Handshake(
        o["mode"], bytes.fromhex(o["noise"]), _addr(o.get("peerAddress")), _addr(o.get("relayAddress"))
    ),
    "holepunch": lambda o: m.Holepunch(
        o["mode"], o["id"], bytes.fromhex(o["payload"]), _addr(o.get("peerAddress"))
    ),
    "noisePayload": _noise_payload,
    "holepunchPayload": _holepunch_payload,
    "peer": _peer,
    "peers": lambda o: [_peer(p) for p in o],
    "announce": _announce,
    "mutableSignable": lambda o: m.MutableSignable(o["seq"], bytes.fromhex(o["value"])),
    "mutablePutRequest": lambda o: m.MutablePutRequest(
        bytes.fromhex(o["publicKey"]), o["seq"], bytes.fromhex(o["value"]), bytes.fromhex(o["signature"])
    ),
    "mutableGetResponse": lambda o: m.MutableGetResponse(
        o["seq"], bytes.fromhex(o["value"]), bytes.fromhex(o["signature"])
    ),
    "pluginRequest": lambda o: m.PluginRequest(o["plugin"], o["version"], o["command"], _b(o.get("value"))),
}

CODECS: dict[str, Any] = {
    "handshake": m.handshake,
    "holepunch": m.holepunch,
    "noisePayload": m.noise_payload,
    "holepunchPayload": m.holepunch_payload,
    "peer": m.peer,
    "peers": m.peers,
    "announce": m.announce,
    "mutableSignable": m.mutable_signable,
    "mutablePutRequest": m.mutable_put_request,
    "mutableGetResponse": m.mutable_get_response,
    "pluginRequest": m.plugin_request,
    "lookupRawReply": m.lookup_raw_reply,
}


def build(name: str, obj: Any) -> Any:
    return BUILDERS[name](obj)


def noise_payload_from_js(obj: dict[str, Any]) -> m.NoisePayload:
    return _noise_payload(obj)


def holepunch_payload_from_js(obj: dict[str, Any]) -> m.HolepunchPayload:
    return _holepunch_payload(obj)


def announce_from_js(obj: dict[str, Any]) -> m.Announce:
    return _announce(obj)
