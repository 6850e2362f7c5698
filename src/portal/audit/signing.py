"""Signing the audit log's tree heads with Ed25519.

What is signed is a fixed text of the head, so that anyone can check a head with the public key
and a few lines of code in any language::

    portal-audit-tree-head-v1
    <size>
    <root hash, 64 lowercase hex digits>
    <signing time, milliseconds since 1970-01-01 UTC>

(each line ended by a newline). The key comes from ``PORTAL_AUDIT_SIGNING_KEY`` (the 32-byte private
key, base64); production refuses to start without it. In development and tests a key is derived
from ``SECRET_KEY``, so that it stays the same between runs of the same installation.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

HEAD_FORMAT = b"portal-audit-tree-head-v1"


def signed_bytes(size: int, root: bytes, signed_at: datetime) -> bytes:
    millis = int(signed_at.timestamp() * 1000)
    return b"%s\n%d\n%s\n%d\n" % (HEAD_FORMAT, size, root.hex().encode(), millis)


@cache
def _private_key(configured: str, secret: str) -> Ed25519PrivateKey:
    if configured:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(configured, validate=True))
    seed = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"portal audit tree heads").derive(
        secret.encode()
    )
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key() -> Ed25519PrivateKey:
    return _private_key(settings.AUDIT_SIGNING_KEY, settings.SECRET_KEY)


def public_key_bytes(key: Ed25519PublicKey | None = None) -> bytes:
    key = key or private_key().public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public: bytes | None = None) -> str:
    """The first 16 bytes of the SHA-256 of the raw public key, in hex."""
    return hashlib.sha256(public or public_key_bytes()).hexdigest()[:32]


def sign(size: int, root: bytes, signed_at: datetime) -> bytes:
    return private_key().sign(signed_bytes(size, root, signed_at))


def verify(size: int, root: bytes, signed_at: datetime, signature: bytes, public: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            signature, signed_bytes(size, root, signed_at)
        )
    except (InvalidSignature, ValueError):
        return False
    return True
