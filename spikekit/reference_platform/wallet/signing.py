"""HMAC-SHA256 request signing shared by the wallet and the simulated providers.

The signature is ``hex(HMAC-SHA256(secret, body))`` over the exact bytes of the
HTTP request body, sent in the ``X-Wallet-Signature`` header.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Wallet-Signature"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """True when ``signature`` is the body's signature (constant-time comparison)."""
    if not signature:
        return False
    # as bytes: compare_digest refuses a str with non-ASCII characters
    return hmac.compare_digest(sign(secret, body).encode(), signature.strip().lower().encode())


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    """Headers for a signed JSON request (what a provider sends)."""
    return {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
