"""Bearer tokens: hashed when read, compared in constant time.

Config may hold a token in plain text or as ``sha256:<hex>``; either way only
the SHA-256 digest is kept in memory and compared with `hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated

from aiohttp import web
from pydantic import BeforeValidator, PlainSerializer

_HASHED = re.compile(r"^sha256:([0-9a-f]{64})$")


def digest(token: str) -> str:
    """The hex SHA-256 of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _to_hash(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("a token must be a string")
    match = _HASHED.match(value)
    if match:
        return match.group(1)
    if len(value) < 8:
        raise ValueError("a token needs at least 8 characters")
    return digest(value)


# A config field holding a token: validated into its hex digest, never printed back.
TokenHash = Annotated[str, BeforeValidator(_to_hash), PlainSerializer(lambda _: "sha256:…", return_type=str)]


def matches(presented: str | None, expected_digest: str | None) -> bool:
    """True when `presented` hashes to `expected_digest`, in time independent of where they differ.

    A presented value that is not text (a header's bytes that are not UTF-8,
    which aiohttp hands over as surrogates) matches nothing.
    """
    if not presented or not expected_digest:
        return False
    try:
        presented_digest = digest(presented)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(presented_digest, expected_digest)


def bearer(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def sign(secret: str, body: bytes) -> str:
    """The ``X-Reception-Signature`` value for `body`: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is the right signature of `body`, compared in constant time."""
    if not header or not header.isascii():  # a signature is ASCII; compare_digest refuses other text
        return False
    return hmac.compare_digest(sign(secret, body), header.strip())
