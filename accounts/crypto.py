"""Encryption of workspace secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`)."""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    key = settings.TRELLIS_ENCRYPTION_KEY
    if not key:
        # Demo installs: derive from SECRET_KEY so nothing needs configuring. Production sets the key.
        key = base64.urlsafe_b64encode(hashlib.sha256(("trellis-secrets:" + settings.SECRET_KEY).encode()).digest())
    return Fernet(key)


def encrypt(value: str) -> bytes:
    return _fernet().encrypt(value.encode())


def decrypt(ciphertext: bytes) -> str:
    try:
        return _fernet().decrypt(bytes(ciphertext)).decode()
    except InvalidToken:
        raise ValueError("Secret cannot be decrypted: TRELLIS_ENCRYPTION_KEY changed?") from None
