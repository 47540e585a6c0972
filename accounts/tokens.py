"""API token format and hashing. Tokens are random, so a plain SHA-256 is enough to store them."""

import hashlib
import secrets

TOKEN_PREFIX = "trl_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
