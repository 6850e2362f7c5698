"""Letting go of pysaml2's exceptions at once.

pysaml2 hands certificates and documents to xmlsec1 as temporary files held in its functions'
local variables. An exception keeps those frames (through its traceback and its chain) alive; once
it ends up in a reference cycle, the files are closed by the garbage collector, in any order, with
a ``ResourceWarning``. Code that turns such an exception into its own calls ``released`` first.
"""

from __future__ import annotations


def released(error: BaseException) -> str:
    """Drop the tracebacks of ``error`` and of the exceptions it chains; return its type's name
    (what is logged: the message may quote the refused document)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__
    return type(error).__name__
