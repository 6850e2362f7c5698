"""The animated QR code of BankID's RP API v6.0.

The relying party shows ``bankid.<qrStartToken>.<seconds>.<qrAuthCode>`` and renews it every
second; the code is an HMAC of the seconds since the order was created, keyed with the order's
``qrStartSecret``. The BankID app rejects a code that is forged or too old, which is what stops a
QR code photographed from someone else's screen from being used later. Both the portal's client
(which draws the code) and the simulator (which checks it) use these functions.
"""

from __future__ import annotations

import hashlib
import hmac

QR_PREFIX = "bankid"


def qr_auth_code(secret: str, seconds: int) -> str:
    """Lowercase hex HMAC-SHA256 of ``seconds`` (as a decimal string), keyed with ``secret``."""
    if seconds < 0:
        raise ValueError("seconds since the order was created cannot be negative")
    return hmac.new(
        secret.encode("utf-8"), str(seconds).encode("ascii"), hashlib.sha256
    ).hexdigest()


def qr_content(token: str, secret: str, seconds: int) -> str:
    """The text to encode in the QR code ``seconds`` after the order was created."""
    return f"{QR_PREFIX}.{token}.{seconds}.{qr_auth_code(secret, seconds)}"
