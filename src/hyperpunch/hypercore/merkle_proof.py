"""Merkle proof generation (JS ``generateProof`` and helpers in ``lib/merkle-tree.js``).

Invariants: for a request (block / hash / seek / upgrade) the proof holds exactly the nodes JS
puts in it, in JS's order, read from the tree's trusted node reader; requests that cannot be
answered raise :class:`InvalidOperationError` with JS's code. Block values are left empty
(``b""``): the caller fills them from storage (``with_block_value``).
"""

from __future__ import annotations

from hyperpunch.crypto import TreeNode
from hyperpunch.hypercore import flat_tree as flat
from hyperpunch.hypercore.errors import AssertionFailedError, InvalidOperationError
from hyperpunch.hypercore.merkle_nodes import (
    MAX_WALK_STEPS,
    NodeReader,
    TreeView,
    get_or_error,
    unpadded_size,
)
from hyperpunch.hypercore.messages import (
    DataBlock,
    DataHash,
    DataSeek,
    DataUpgrade,
    Proof,
    RequestBlock,
    RequestSeek,
    RequestUpgrade,
)

__all__ = ["generate_proof"]


class _Pending:
    __slots__ = ("additional", "node", "seek", "upgrade")

    def __init__(self) -> None:
        self.node: list[TreeNode] | None = None
        self.seek: list[TreeNode] | None = None
        self.upgrade: list[TreeNode] | None = None
        self.additional: list[TreeNode] | None = None


class _Indexed:
    __slots__ = ("index", "last_index", "nodes", "value")

    def __init__(self, value: bool, index: int, nodes: int, last_index: int) -> None:
        self.value = value
        self.index = index
        self.nodes = nodes
        self.last_index = last_index


def _seek_proof(reader: NodeReader, seek_root: int, root: int, p: _Pending) -> None:
    ite = flat.Iterator(seek_root)
    out = [get_or_error(reader, ite.index)]
    p.seek = out
    cnt = 0
    while ite.index != root:
        cnt += 1
        if cnt >= MAX_WALK_STEPS:
            raise AssertionFailedError(f"Bad seekProof seekRoot={seek_root}, root={root}")
        ite.sibling()
        out.append(get_or_error(reader, ite.index))
        ite.parent()


def _block_and_seek_proof(
    reader: NodeReader, node: _Indexed | None, seek: bool, seek_root: int, root: int, p: _Pending
) -> None:
    if node is None:
        _seek_proof(reader, seek_root, root, p)
        return
    ite = flat.Iterator(node.index)
    out: list[TreeNode] = []
    p.node = out
    if not node.value:
        out.append(get_or_error(reader, ite.index))
    cnt = 0
    while ite.index != root:
        cnt += 1
        if cnt >= MAX_WALK_STEPS:
            raise AssertionFailedError(f"Bad blockAndSeekProof seekRoot={seek_root}, root={root}")
        ite.sibling()
        if seek and ite.contains(seek_root) and ite.index != seek_root:
            _seek_proof(reader, seek_root, ite.index, p)
        else:
            out.append(get_or_error(reader, ite.index))
        ite.parent()


def _upgrade_proof(
    reader: NodeReader, node: _Indexed | None, seek: bool, from_: int, to: int, sub_tree: int, p: _Pending
) -> None:
    if from_ == 0:
        p.upgrade = []
    ite = flat.Iterator(0)
    while ite.full_root(to):
        if ite.index + (ite.factor >> 1) < from_:
            ite.next_tree()
            continue
        if p.upgrade is None and ite.contains(from_ - 2):
            up: list[TreeNode] = []
            p.upgrade = up
            root = ite.index
            target = from_ - 2
            ite.seek(target)
            cnt = 0
            while ite.index != root:
                cnt += 1
                if cnt >= MAX_WALK_STEPS:
                    raise AssertionFailedError(f"Bad upgradeProof target={target}, root={root}")
                ite.sibling()
                if ite.index > target:
                    if p.node is None and p.seek is None and ite.contains(sub_tree):
                        _block_and_seek_proof(reader, node, seek, sub_tree, ite.index, p)
                    else:
                        up.append(get_or_error(reader, ite.index))
                ite.parent()
            ite.next_tree()
            continue
        if p.upgrade is None:
            p.upgrade = []
        if p.node is None and p.seek is None and ite.contains(sub_tree):
            _block_and_seek_proof(reader, node, seek, sub_tree, ite.index, p)
            ite.next_tree()
            continue
        p.upgrade.append(get_or_error(reader, ite.index))
        ite.next_tree()


def _additional_upgrade_proof(reader: NodeReader, from_: int, to: int, p: _Pending) -> None:
    if from_ == 0:
        p.additional = []
    ite = flat.Iterator(0)
    while ite.full_root(to):
        if ite.index + (ite.factor >> 1) < from_:
            ite.next_tree()
            continue
        if p.additional is None and ite.contains(from_ - 2):
            add: list[TreeNode] = []
            p.additional = add
            root = ite.index
            target = from_ - 2
            ite.seek(target)
            cnt = 0
            while ite.index != root:
                cnt += 1
                if cnt >= MAX_WALK_STEPS:
                    raise AssertionFailedError(
                        f"Bad arguments to additionalUpgradeProof root={root} target={target}"
                    )
                ite.sibling()
                if ite.index > target:
                    add.append(get_or_error(reader, ite.index))
                ite.parent()
            ite.next_tree()
            continue
        if p.additional is None:
            p.additional = []
        p.additional.append(get_or_error(reader, ite.index))
        ite.next_tree()


def _nodes_to_root(index: int, nodes: int, head: int) -> int:
    ite = flat.Iterator(index)
    for _ in range(nodes):
        ite.parent()
        if ite.contains(head):
            raise InvalidOperationError("Nodes is out of bounds")
    return ite.index


def _seek_trusted_tree(reader: NodeReader, root: int, bytes_: int, padding: int) -> int:
    if not bytes_:
        return root
    ite = flat.Iterator(root)
    cnt = 0
    while ite.index & 1:
        cnt += 1
        if cnt >= MAX_WALK_STEPS:
            raise AssertionFailedError(f"Bad seekTrusted bytes={bytes_}, paddding={padding}")
        left = reader.get_tree_node(ite.left_child())
        if left is not None:
            size = unpadded_size(left, padding, ite)
            if size == bytes_:
                return ite.index
            if size > bytes_:
                continue
            bytes_ -= size
            ite.sibling()
        else:
            ite.parent()
            return ite.index
    return ite.index


def _seek_from_head(tree: TreeView, head: int, bytes_: int, padding: int) -> int:
    for root in flat.full_roots(head):
        node = tree.reader.get_tree_node(root)
        if node is None:
            raise InvalidOperationError(f"Expected tree node {root} from storage, got (nil)")
        size = unpadded_size(node, padding, None)
        if bytes_ == size:
            return root
        if bytes_ > size:
            bytes_ -= size
            continue
        return _seek_trusted_tree(tree.reader, root, bytes_, padding)
    return head


def _seek_untrusted_tree(tree: TreeView, root: int, bytes_: int, padding: int) -> int:
    offset = tree.byte_offset(root) - (padding * flat.left_span(root) // 2 if padding else 0)
    if offset > bytes_:
        raise InvalidOperationError("Invalid seek")
    if offset == bytes_:
        return root
    bytes_ -= offset
    node = get_or_error(tree.reader, root)
    if unpadded_size(node, padding, None) <= bytes_:
        raise InvalidOperationError("Invalid seek")
    return _seek_trusted_tree(tree.reader, root, bytes_, padding)


def generate_proof(
    tree: TreeView,
    block: RequestBlock | None,
    hash_: RequestBlock | None,
    seek: RequestSeek | None,
    upgrade: RequestUpgrade | None,
) -> Proof:
    if tree.prologue is not None and upgrade is not None:
        plen = tree.prologue.length
        if upgrade.start < plen:
            upgrade = RequestUpgrade(0, plen)

    head = 2 * tree.length
    from_ = upgrade.start * 2 if upgrade is not None else 0
    to = from_ + upgrade.length * 2 if upgrade is not None else head

    node: _Indexed | None = None
    if block is not None:
        node = _Indexed(True, block.index * 2, block.nodes, block.index)
    elif hash_ is not None:
        node = _Indexed(False, hash_.index, hash_.nodes, flat.right_span(hash_.index) // 2)

    if head == 0:
        return Proof(tree.fork)

    if from_ >= to or to > head:
        raise InvalidOperationError("Invalid upgrade")
    if seek is not None and upgrade is not None and node is not None and node.index >= from_:
        raise InvalidOperationError("Cannot both do a seek and block/hash request when upgrading")

    reader = tree.reader
    sub_tree = head
    p = _Pending()

    if node is not None and (upgrade is None or node.last_index < upgrade.start):
        sub_tree = _nodes_to_root(node.index, node.nodes, to)
        seek_root = (
            _seek_untrusted_tree(tree, sub_tree, seek.bytes, seek.padding) if seek is not None else head
        )
        _block_and_seek_proof(reader, node, seek is not None, seek_root, sub_tree, p)
    elif (node is not None or seek is not None) and upgrade is not None:
        if seek is not None:
            sub_tree = _seek_from_head(tree, to, seek.bytes, seek.padding)
        else:
            assert node is not None
            sub_tree = node.index

    if upgrade is not None:
        _upgrade_proof(reader, node, seek is not None, from_, to, sub_tree, p)
        if head > to:
            _additional_upgrade_proof(reader, to, head, p)

    out_block = out_hash = None
    if block is not None:
        if p.node is None:
            raise InvalidOperationError("Invalid block request")
        out_block = DataBlock(block.index, b"", p.node)
    elif hash_ is not None:
        if p.node is None:
            raise InvalidOperationError("Invalid block request")
        out_hash = DataHash(hash_.index, p.node)
    out_seek = DataSeek(seek.bytes, p.seek) if seek is not None and p.seek is not None else None
    out_upgrade = None
    if upgrade is not None:
        out_upgrade = DataUpgrade(
            upgrade.start, upgrade.length, p.upgrade or [], p.additional or [], tree.signature
        )
    return Proof(tree.fork, out_block, out_hash, out_seek, out_upgrade)
