"""Membership changes in a mixed JS/Python network (issue 13): three JS and two hyperpunch peers
of one base with a Hyperbee view, all linked. J1 creates the base with J2 and P1 as indexers and
P2 and J3 as plain writers; then, each through an app message and each followed by writes and
acks until every peer agrees (same entries, view core and indexed system core, the indexer set
and who is writable; every value indexed; JS's signed view length covers the view): P1
(Python) removes J3 (a JS writer), J2 (JS) promotes P2 (a Python writer) to an indexer and P1
(Python) demotes J2 (a JS indexer) to a plain writer.

Not here: removing a writer or an indexer *after* those indexer changes (P2 removing the demoted
J2, or J1 removing P1) stalls: the indexers ack round after round, JS and Python alike, and the
nodes after the removal are never indexed (JS and Python agree on every figure meanwhile; an
all-JS mesh driven the same way stalls too, at the promotion)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from mesh import Peer, State, js_peer, py_peer
from test_autobase_four_indexers import agree, covered, links, until

pytestmark = pytest.mark.timeout(1200)


async def test_promote_demote_and_remove_in_a_mixed_network(tmp_path: Path) -> None:
    async with contextlib.AsyncExitStack() as stack:
        j1 = await stack.enter_async_context(js_peer("J1", 31))
        j2 = await stack.enter_async_context(js_peer("J2", 32, j1.key))
        p1 = await stack.enter_async_context(py_peer("P1", tmp_path / "p1", 33, j1.key))
        p2 = await stack.enter_async_context(py_peer("P2", tmp_path / "p2", 34, j1.key))
        j3 = await stack.enter_async_context(js_peer("J3", 35, j1.key))
        peers: list[Peer] = [j1, j2, p1, p2, j3]
        await stack.enter_async_context(links([(a, b) for i, a in enumerate(peers) for b in peers[i + 1 :]]))
        written: dict[str, int] = {}
        counter = 0

        async def write(writers: list[Peer]) -> None:
            nonlocal counter
            for p in writers:
                counter += 1
                ops: list[dict[str, Any]] = [
                    {"put": f"k{counter % 5}", "value": {"w": p.name, "n": counter}},
                    {"del": f"k{(counter + 2) % 5}"},
                    {"put": p.name, "value": counter},
                ]
                written[p.local] = await p.append(ops)

        async def settle(what: str, indexers: list[Peer], writers: list[Peer]) -> list[State]:
            want = sorted(p.local for p in indexers)

            async def done(states: list[State]) -> bool:
                return (
                    agree(states)
                    and sorted(states[0].indexers) == want
                    and [s.writable for s in states] == [p in writers for p in peers]
                    and covered(peers, written)
                    and all(s.view_signed in (None, s.view[1]) for s in states)
                )

            states = await until(what, peers, [p for p in peers if p in writers], done)
            for p, s in zip(peers, states, strict=True):
                assert s.is_indexer == (p in indexers), p.name
            return states

        await j1.append(
            [
                {"add": j2.local, "indexer": True},
                {"add": p1.local, "indexer": True},
                {"add": p2.local, "indexer": False},
                {"add": j3.local, "indexer": False},
            ]
        )
        await settle("adding the writers", [j1, j2, p1], peers)
        await write(peers)
        await settle("first writes", [j1, j2, p1], peers)

        await p1.append([{"remove": j3.local}])  # Python removes a JS writer
        await write([j1, j2, p1, p2])
        await settle("removing J3", [j1, j2, p1], [j1, j2, p1, p2])

        await j2.append([{"add": p2.local, "indexer": True}])  # JS promotes a Python writer
        await write([j1, j2, p1, p2])
        await settle("promoting P2", [j1, j2, p1, p2], [j1, j2, p1, p2])

        await p1.append([{"add": j2.local, "indexer": False}])  # Python demotes a JS indexer
        await write([j1, j2, p1, p2])
        states = await settle("demoting J2", [j1, p1, p2], [j1, j2, p1, p2])
        ref = states[0]
        assert ref.entries and {s.system_signed for s in states} == {ref.system_signed} != {0}
        assert [e for e in ref.entries if e[0] == "J3"]  # what J3 wrote before its removal stays
