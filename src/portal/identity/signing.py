"""What happens when a signature completes: each kind of signed object registers a handler.

The handler runs in the same transaction as the stored signature, so the object's change (an
enrolment signed, a de-registration requested) and the signature are kept together or not at
all. A handler must not raise for reasons of the object's own state: it records a refusal
instead, since the signature itself is valid.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from portal.identity.models import Signature

SignatureHandler = Callable[..., None]

_HANDLERS: dict[str, SignatureHandler] = {}


def register_signature_handler(object_type: str, handler: SignatureHandler) -> None:
    """``handler(*, signature: Signature, request: HttpRequest | None)`` for ``object_type``."""
    _HANDLERS[object_type] = handler


def signature_completed(*, signature: Signature, request: HttpRequest | None) -> None:
    handler = _HANDLERS.get(signature.object_type)
    if handler is not None:
        handler(signature=signature, request=request)
