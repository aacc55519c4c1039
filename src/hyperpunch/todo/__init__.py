"""hyperpunch.todo: the flagship collaborative todo list (issue 17), the Python peer.

A list is an Autobase 7 base; its view is the Hyperbee ``todo`` holding hyperbeedeebee
documents ``{_id, text, done}`` under ``todo\\0doc\\0``; ops are hello-peers' BSON ops. Layers:
:mod:`~hyperpunch.todo.errors`, :mod:`~hyperpunch.todo.ops` (the op and document bytes and the
apply's skip rules, sans-IO) and :mod:`~hyperpunch.todo.todolist` (:class:`TodoList`, the
asyncio peer: Autobase + Hyperswarm + the writer-exchange channel).

Floor: above ``autobase``, ``docdb`` and ``swarm`` (it imports them and ``hyperbee``).
"""

from __future__ import annotations

from hyperpunch.todo.errors import TodoError, TodoLocalError
from hyperpunch.todo.ops import MAX_NODE_BYTES, MAX_TEXT_BYTES, PREFIX, Todo, parse_op
from hyperpunch.todo.todolist import PROTOCOL, TodoList, open_view

__all__ = [
    "MAX_NODE_BYTES",
    "MAX_TEXT_BYTES",
    "PREFIX",
    "PROTOCOL",
    "Todo",
    "TodoError",
    "TodoList",
    "TodoLocalError",
    "open_view",
    "parse_op",
]
