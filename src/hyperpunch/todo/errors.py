"""The todo list's errors: one hierarchy, codes as the JS client's ``TodoError``.

Local (the caller's mistake): ``EMPTY_TEXT``, ``TEXT_TOO_LONG``, ``NOT_WRITABLE`` (not added as a
writer yet), ``NOT_FOUND`` (no todo with that id); ``AMBIGUOUS_ID`` for an id prefix matching more
than one todo (the CLI's short ids; no JS counterpart).
"""

from __future__ import annotations

from hyperpunch.errors import HyperpunchError, LocalError


class TodoError(HyperpunchError):
    """Base of every todo-list error; ``code`` says which."""

    code = "TODO_ERROR"


class TodoLocalError(TodoError, LocalError):
    """The caller asked for something the list refuses."""


def empty_text() -> TodoLocalError:
    return TodoLocalError("a todo needs some text", code="EMPTY_TEXT")


def text_too_long(limit: int) -> TodoLocalError:
    return TodoLocalError(f"a todo has at most {limit} bytes of text", code="TEXT_TOO_LONG")


def not_writable() -> TodoLocalError:
    return TodoLocalError("not a writer of this list yet (waiting to be added)", code="NOT_WRITABLE")


def not_found(todo_id: str) -> TodoLocalError:
    return TodoLocalError(f"no todo {todo_id}", code="NOT_FOUND")


def ambiguous(prefix: str) -> TodoLocalError:
    return TodoLocalError(f"more than one todo starts with {prefix}", code="AMBIGUOUS_ID")
