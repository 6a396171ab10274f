"""Signatures receivers can check: HMAC-SHA256 over the timestamp and the exact body.

Header: `Studyapp-Signature: t=<unix seconds>,v1=<hex digest>`, the digest of `f"{t}.{body}"` with
the webhook's secret. The timestamp is inside the signed text, so a captured request cannot be
replayed later with a fresh timestamp; receivers reject signatures older than a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Studyapp-Signature"
TOLERANCE_S = 300


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, tolerance_s: int = TOLERANCE_S, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and is recent."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp=timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
