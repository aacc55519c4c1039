"""The iterative Kademlia query (JS ``lib/query.js``), sans-IO and callback driven.

Invariants:

* Start from ``nodes`` (or the ``k`` closest table nodes, then the bootstrap nodes); keep at most
  ``concurrency`` requests in flight (3 while "slowed down" on cached nodes), plus one per request
  that has timed out once ("slow").
* A reply's ``closer_nodes`` (id = H(ip:port)) become pending only if closer to the target than
  the current ``k``-th best reply; ``closest_replies`` keeps the ``k`` best successful replies with
  a valid id, sorted by XOR distance (bytewise), duplicates removed.
* A node that times out is marked DOWN and a DOWN_HINT naming it goes to every node that referred
  it (rate-limited per DHT tick).
* The walk ends when nothing is pending and nothing is in flight (or only slow requests remain and
  ``k`` replies are in). Then ``commit`` runs for every closest reply; the query ends
  successfully if at least one commit succeeds, else with the last commit error, or
  "Too few nodes responded" when there was nothing to commit.
* Every reply is passed to ``on_data`` (after ``map``); ``on_close(err)`` is called exactly once.
* A query talks to its node only through the :class:`QueryHost` Protocol declared here (the core
  satisfies it; this module does not import the core).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from hyperpunch.dht_rpc.errors import DHTRPCError, QueryError
from hyperpunch.dht_rpc.messages import DOWN_HINT
from hyperpunch.dht_rpc.peer_ids import cached_peer_id
from hyperpunch.dht_rpc.requests import IO, OutgoingRequest, Peer, Response, Session
from hyperpunch.dht_rpc.routing_table import RoutingTable
from hyperpunch.encoding import Address, encode, ipv4_address

__all__ = ["CommitDone", "CommitFn", "Query", "QueryHost"]

ResponseCb = Callable[[Response, OutgoingRequest], None]
ErrorCb = Callable[[DHTRPCError, OutgoingRequest], None]


class QueryHost(Protocol):
    """What a :class:`Query` needs of its node (``DHTCore`` satisfies it)."""

    down_hints_sent_per_tick: int  # the query counts the DOWN_HINTs it sends this tick

    @property
    def table(self) -> RoutingTable: ...

    @property
    def io(self) -> IO: ...

    @property
    def concurrency(self) -> int: ...

    @property
    def bootstrap_nodes(self) -> list[tuple[str, int]]: ...

    @property
    def filter_node(self) -> Callable[[Peer], bool] | None: ...

    @property
    def stats_queries(self) -> dict[str, int]: ...

    @property
    def down_hints_rate_limit(self) -> int: ...

    def request(
        self,
        token: bytes | None,
        command: int,
        target: bytes | None,
        value: bytes | None,
        to: tuple[str, int],
        *,
        on_response: ResponseCb,
        on_error: ErrorCb,
    ) -> OutgoingRequest | None: ...

    def make_request(
        self,
        to: Peer,
        force: bool,
        internal: bool,
        command: int,
        target: bytes | None,
        value: bytes | None,
        session: Session | None,
        on_response: ResponseCb,
        on_error: ErrorCb,
    ) -> OutgoingRequest | None: ...

    def internal_request(
        self,
        to: Peer,
        command: int,
        target: bytes | None,
        value: bytes | None,
        *,
        session: Session | None = None,
    ) -> OutgoingRequest | None: ...


CommitDone = Callable[[BaseException | None], None]
# commit(reply, host, query, done): start the commit, call done(None) or done(err) once.
CommitFn = Callable[[Response, QueryHost, "Query", CommitDone], None]

_DONE: list[Peer] = []
_DOWN: list[Peer] = []


def _noop(*_: object) -> None:
    return None


def auto_commit(reply: Response, core: QueryHost, query: Query, done: CommitDone) -> None:
    """Re-send the query's command/target/value to the replying node with its token."""
    if reply.token is None:
        done(QueryError("No token received for closest node"))
        return
    core.request(
        reply.token,
        query.command,
        query.target,
        query.value,
        reply.from_.address,
        on_response=lambda _res, _req: done(None),
        on_error=lambda err, _req: done(err),
    )


class Query:
    """One query. Set ``on_data``/``on_close`` then call :meth:`start`."""

    def __init__(
        self,
        core: QueryHost,
        target: bytes,
        internal: bool,
        command: int,
        value: bytes | None,
        *,
        concurrency: int | None = None,
        retries: int | None = None,
        nodes: Sequence[Peer | tuple[str, int]] | None = None,
        replies: list[Response] | None = None,
        only_closest_nodes: bool = False,
        commit: bool | CommitFn | None = None,
        session: Session | None = None,
        force: bool = False,
        map: Callable[[Response], Any] | None = None,
    ) -> None:
        core.stats_queries["total"] += 1
        core.stats_queries["active"] += 1
        self.core = core
        self.force = force
        self.k = core.table.k
        self.target = target
        self._target_int = int.from_bytes(target, "big")
        self.internal = internal
        self.command = command
        self.value = value
        self.errors = 0
        self.successes = 0
        self.concurrency = concurrency or core.concurrency
        self.inflight = 0
        self.map = map
        self.retries = retries if retries is not None else (3 if internal and command == DOWN_HINT else 5)
        self.closest_replies: list[Response] = []
        self.on_data: Callable[[Any], None] = _noop
        self.on_close: Callable[[BaseException | None], None] = _noop
        self.destroyed = False
        self.error: BaseException | None = None
        self._started = False
        self._slow = 0
        self._slowdown = False
        self._seen: dict[tuple[str, int], list[Peer]] = {}
        self._pending: list[Peer] = []
        self._from_table = False
        self._commit: CommitFn | None = auto_commit if commit is True else (commit or None)
        self._commiting = False
        self._session = session or Session(core.io)
        self._auto_destroy_session = session is None
        self._only_closest_nodes = False
        self._slow_reqs: set[int] = set()

        if nodes:
            for node in reversed(nodes):
                if isinstance(node, Peer):
                    p = Peer(node.host, node.port, node.id or cached_peer_id(node.host, node.port))
                else:
                    host, port = node
                    p = Peer(host, port, cached_peer_id(host, port))
                self._add_pending(p, None)
        elif replies:
            for r in reversed(replies):
                self._add_pending(r.from_, None)
        if only_closest_nodes:
            self._only_closest_nodes = True

    @property
    def closest_nodes(self) -> list[Peer]:
        return [r.from_ for r in self.closest_replies]

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._started or self.destroyed:
            return
        self._started = True
        self._add_from_table()
        if len(self._pending) < self.k:
            for host, port in self.core.bootstrap_nodes:
                self._add_pending(Peer(host, port, cached_peer_id(host, port)), None)
        self._read_more()

    def destroy(self, err: BaseException | None = None) -> None:
        if self.destroyed:
            return
        self.destroyed = True
        self.error = err
        self.core.stats_queries["active"] -= 1
        if self._auto_destroy_session:
            self._session.destroy()
        self.on_close(err)

    # -- internals -----------------------------------------------------------------------------

    def _add_from_table(self) -> None:
        if len(self._pending) >= self.k:
            return
        self._from_table = True
        for node in self.core.table.closest(self.target, self.k - len(self._pending)):
            self._add_pending(Peer(node.host, node.port, node.id), None)

    def _compare(self, a: bytes, b: bytes) -> int:
        t = self._target_int
        da = int.from_bytes(a, "big") ^ t
        db = int.from_bytes(b, "big") ^ t
        return -1 if da < db else 1 if da > db else 0

    def _is_closer(self, id: bytes | None) -> bool:
        cr = self.closest_replies
        if len(cr) < self.k:
            return True
        last = cr[-1].from_.id
        assert last is not None
        return id is not None and self._compare(id, last) < 0

    def _add_pending(self, node: Peer, ref: Peer | None) -> bool:
        if self._only_closest_nodes:
            return False
        addr = (node.host, node.port)
        refs = self._seen.get(addr)
        is_closer = self._is_closer(node.id)
        if refs is _DONE:
            return is_closer
        if refs is _DOWN:
            if ref is not None:
                self._down_hint(ref, node)
            return is_closer
        if refs is not None:
            if ref is not None:
                refs.append(ref)
            return is_closer
        if not is_closer:
            return False
        self._seen[addr] = [] if ref is None else [ref]
        self._pending.append(node)
        return True

    def _read_more(self) -> None:
        if self.destroyed or self._commiting:
            return
        concurrency = (3 if self._slowdown else self.concurrency) + self._slow
        while self.inflight < concurrency and self._pending:
            nxt = self._pending.pop()
            if nxt.id is not None and not self._is_closer(nxt.id):
                continue
            self._visit(nxt)
            if self.destroyed:
                return
        if not self._from_table and self.successes == 0 and self.errors == 0:
            self._slowdown = True
        if self._pending:
            return
        if self.inflight == 0 or (self._slow == self.inflight and len(self.closest_replies) >= self.k):
            if not self._from_table and self.successes < self.k / 4:
                self._add_from_table()
                self._read_more()
                return
            self._flush()

    def _flush(self) -> None:
        if self._commiting:
            return
        self._commiting = True
        if self._commit is None:
            self.destroy(None)
            return
        replies = list(self.closest_replies)
        if not replies:
            self.destroy(QueryError("Too few nodes responded"))
            return
        state = {"pending": len(replies), "success": 0}

        def done(err: BaseException | None) -> None:
            state["pending"] -= 1
            if err is None:
                state["success"] += 1
                if state["pending"] == 0:
                    self.destroy(None)
                return
            if state["pending"] > 0:
                return
            self.destroy(None if state["success"] else err)

        commit = self._commit
        for m in replies:
            commit(m, self.core, self, _once(done))

    def _dec(self, req: OutgoingRequest) -> None:
        if req.tid in self._slow_reqs:
            self._slow_reqs.discard(req.tid)
            self._slow -= 1
        req.on_cycle = _noop
        self.inflight -= 1

    def _on_visit(self, m: Response, req: OutgoingRequest) -> None:
        self._dec(req)
        self._seen[(req.to.host, req.to.port)] = _DONE
        if self._commiting or self.destroyed:
            return
        if m.error == 0:
            self.successes += 1
        else:
            self.errors += 1
        if m.error == 0 and m.from_.id is not None and self._is_closer(m.from_.id):
            self._push_closest(m)
        if m.closer_nodes is not None:
            core = self.core
            own = core.table.id
            for host, port in m.closer_nodes:
                node = Peer(host, port, cached_peer_id(host, port))
                if core.filter_node is not None and not core.filter_node(node):
                    continue
                if node.id == own:
                    continue
                if not self._add_pending(node, m.from_):
                    break
        if not self._from_table and self.successes + self.errors >= self.concurrency:
            self._slowdown = False
        if m.error != 0:
            self._read_more()
            return
        data = self.map(m) if self.map is not None else m
        if data is not None:
            self.on_data(data)
        self._read_more()

    def _on_error(self, err: DHTRPCError, req: OutgoingRequest) -> None:
        addr = (req.to.host, req.to.port)
        refs = self._seen.get(addr)
        if err.code == "REQUEST_TIMEOUT":
            self._seen[addr] = _DOWN
            if refs is not None and refs is not _DONE and refs is not _DOWN:
                for node in refs:
                    self._down_hint(node, req.to)
        self._dec(req)
        self.errors += 1
        self._read_more()

    def _on_cycle(self, req: OutgoingRequest) -> None:
        req.on_cycle = _noop
        self._slow_reqs.add(req.tid)
        self._slow += 1
        self._read_more()

    def _down_hint(self, node: Peer, down: Peer) -> None:
        core = self.core
        if core.down_hints_rate_limit != -1 and core.down_hints_sent_per_tick >= core.down_hints_rate_limit:
            return
        core.down_hints_sent_per_tick += 1
        value = encode(ipv4_address, Address(down.host, down.port))
        core.internal_request(
            Peer(node.host, node.port, node.id), DOWN_HINT, None, value, session=self._session
        )

    def _push_closest(self, m: Response) -> None:
        cr = self.closest_replies
        cr.append(m)
        assert m.from_.id is not None
        for i in range(len(cr) - 2, -1, -1):
            prev = cr[i]
            assert prev.from_.id is not None
            c = self._compare(prev.from_.id, m.from_.id)
            if c < 0:
                break
            if c == 0:
                del cr[i + 1]
                break
            cr[i + 1] = prev
            cr[i] = m
        if len(cr) > self.k:
            cr.pop()

    def _visit(self, to: Peer) -> None:
        self.inflight += 1
        req = self.core.make_request(
            to,
            self.force,
            self.internal,
            self.command,
            self.target,
            self.value,
            self._session,
            self._on_visit,
            self._on_error,
        )
        if req is None:
            self.destroy(QueryError("Node was destroyed", code="DESTROYED"))
            return
        req.retries = 0 if self.force else self.retries
        req.on_cycle = self._on_cycle


def _once(fn: CommitDone) -> CommitDone:
    called = False

    def wrapper(err: BaseException | None) -> None:
        nonlocal called
        if not called:
            called = True
            fn(err)

    return wrapper
