"""Answers one request works out once and uses again: kept for the rest of the request, and
forgotten at the first change the request records (``audit.record``), so that an answer given
after a change is worked out afresh.

``RequestIdMiddleware`` opens the scope around every request; outside a request (commands,
tasks, tests calling a function directly) nothing is kept and every answer is worked out anew.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("portal_request_memo", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    """Keep answers until the scope ends (one request)."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remembered(key: Hashable, work: Callable[[], T]) -> T:
    """``work()``, or what it gave for ``key`` earlier in this request."""
    memo = _memo.get()
    if memo is None:
        return work()
    try:
        value: T = memo[key]
    except KeyError:
        value = memo[key] = work()
    return value


def kept(key: Hashable) -> Any:
    """What the request keeps under ``key``, or None: nothing is worked out."""
    memo = _memo.get()
    return None if memo is None else memo.get(key)


def forget() -> None:
    """Drop every kept answer: something has changed."""
    memo = _memo.get()
    if memo:
        memo.clear()
