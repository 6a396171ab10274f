"""A PDF's password is kept sealed while its extraction waits, never in clear in the database.

Sealed with Fernet (AES-128-CBC with an HMAC) under a key derived from SECRET_KEY by HKDF, so the
database file, its WAL or a backup hold only ciphertext, and the row is wiped once extraction ends.
Rotating SECRET_KEY makes a waiting password unreadable: that extraction then asks for it again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "sealed:v1:"


def seal(password: str) -> str:
    """The stored form of `password` ("" stays "")."""
    if not password:
        return ""
    return PREFIX + _fernet().encrypt(password.encode()).decode()


def unseal(stored: str) -> str:
    """The password again; "" if there is none or it cannot be opened (another SECRET_KEY)."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return stored  # written before passwords were sealed
    try:
        return _fernet().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        return ""


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"studyapp pdf password").derive(
        settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))
