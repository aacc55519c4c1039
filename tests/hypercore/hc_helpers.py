"""Helpers for the hypercore tests: JSON (from the JS vectors) to hyperpunch values, and an
in-memory node reader."""

from __future__ import annotations

from typing import Any

from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore import messages as m


def h(x: str | None) -> bytes | None:
    return None if x is None else bytes.fromhex(x)


def hb(x: str) -> bytes:
    return bytes.fromhex(x)


def node(j: dict[str, Any]) -> TreeNode:
    return TreeNode(j["index"], j["size"], hb(j["hash"]))


def nodes(js: list[dict[str, Any]]) -> list[TreeNode]:
    return [node(j) for j in js]


def manifest(j: dict[str, Any]) -> m.Manifest:
    return m.Manifest(
        version=j["version"],
        quorum=j["quorum"],
        signers=[
            m.Signer(public_key=hb(s["publicKey"]), namespace=hb(s["namespace"]), signature=s["signature"])
            for s in j["signers"]
        ],
        allow_patch=j["allowPatch"],
        prologue=m.Prologue(hb(j["prologue"]["hash"]), j["prologue"]["length"]) if j["prologue"] else None,
        linked=[hb(k) for k in j["linked"]] if j["linked"] is not None else None,
        user_data=h(j["userData"]),
        hash=j["hash"],
    )


def data_msg(j: dict[str, Any], request: int | None = None) -> m.Data:
    b = j.get("block")
    hs = j.get("hash")
    sk = j.get("seek")
    up = j.get("upgrade")
    man = j.get("manifest")
    return m.Data(
        request=j["request"] if request is None else request,
        fork=j["fork"],
        block=m.DataBlock(b["index"], hb(b["value"]), nodes(b["nodes"])) if b else None,
        hash=m.DataHash(hs["index"], nodes(hs["nodes"])) if hs else None,
        seek=m.DataSeek(sk["bytes"], nodes(sk["nodes"])) if sk else None,
        upgrade=m.DataUpgrade(
            up["start"], up["length"], nodes(up["nodes"]), nodes(up["additionalNodes"]), h(up["signature"])
        )
        if up
        else None,
        manifest=manifest(man) if man else None,
    )


def request_parts(j: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "block" in j:
        out["block"] = m.RequestBlock(j["block"]["index"], j["block"]["nodes"])
    if "hash" in j:
        out["hash"] = m.RequestBlock(j["hash"]["index"], j["hash"]["nodes"])
    if "seek" in j:
        out["seek"] = m.RequestSeek(j["seek"]["bytes"], j["seek"]["padding"])
    if "upgrade" in j:
        out["upgrade"] = m.RequestUpgrade(j["upgrade"]["start"], j["upgrade"]["length"])
    return out


class DictReader:
    """A node reader over a dict (index -> node)."""

    def __init__(self) -> None:
        self.nodes: dict[int, TreeNode] = {}

    def get_tree_node(self, index: int) -> TreeNode | None:
        return self.nodes.get(index)

    def put_tree_node(self, n: TreeNode) -> None:
        self.nodes[n.index] = n

    def delete_tree_node(self, index: int) -> None:
        self.nodes.pop(index, None)

    def delete_tree_node_range(self, start: int, end: int) -> None:
        for i in [i for i in self.nodes if start <= i < end]:
            del self.nodes[i]
