"""Bearer tokens and request signatures, compared in constant time.

Config may hold a token in plain text or as ``sha256:<hex>``; either way only
the SHA-256 digest is kept in memory and compared with `hmac.compare_digest`.
Webhook bodies are signed with HMAC-SHA256 in two forms: plain
(``sha256=<hex>``) and timestamped (``t=<unix seconds>,v1=<hex>``, which
resists replay); see docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated

from aiohttp import web
from pydantic import BeforeValidator, PlainSerializer

_HASHED = re.compile(r"^sha256:([0-9a-f]{64})$")
SIGNATURE_HEADER = "X-Reception-Signature"
TIMESTAMPED_HEADER = "X-Reception-Signature-Timestamped"  # on outgoing callbacks, beside the plain one


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


def _hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes) -> str:
    """The plain ``X-Reception-Signature`` value for `body`: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + _hmac(secret, body)


def sign_timestamped(secret: str, body: bytes, at: int) -> str:
    """The timestamped signature of `body` sent at unix second `at`: ``t=<at>,v1=<hex HMAC of "<at>.<body>">``."""
    return f"t={at},v1=" + _hmac(secret, f"{at}.".encode("ascii") + body)


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is the right plain signature of `body`, compared in constant time."""
    if not header or not header.isascii():  # a signature is ASCII; compare_digest refuses other text
        return False
    return hmac.compare_digest(sign(secret, body), header.strip())


class SignatureError(ValueError):
    """A request signature that is refused; `code` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_PAIR = re.compile(r"^([a-z0-9]{1,16})=([!-~]{1,128})$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_SHAPE = "expected sha256=<hex> or t=<unix seconds>,v1=<hex>"


def _parse_timestamped(header: str) -> tuple[int, list[str]]:
    """(t, [v1 …]) of ``t=…,v1=…[,v1=…]``; other schemes are ignored, as Stripe's and Slack's verifiers do."""
    stamps, signatures = [], []
    for part in header.split(","):
        match = _PAIR.match(part.strip())
        if match is None:
            raise SignatureError("bad_signature", f"malformed signature: {_SHAPE}")
        key, value = match.groups()
        if key == "t":
            stamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(stamps) != 1 or not stamps[0].isdigit() or len(stamps[0]) > 12 or not signatures:
        raise SignatureError("bad_signature", f"malformed signature: {_SHAPE}")
    return int(stamps[0]), signatures


def verify_signature(secret: str, body: bytes, header: str | None, now: float, tolerance: float,
                     require_timestamp: bool = False) -> None:
    """Raise `SignatureError` unless `header` signs `body` in either form.

    The timestamped form also needs its ``t`` within `tolerance` seconds of
    `now` (unix seconds), so a captured request cannot be replayed later:
    ``stale_signature`` when it is not. Every comparison is constant-time.
    """
    if not header or not header.strip():
        raise SignatureError("bad_signature", "missing X-Reception-Signature header")
    header = header.strip()
    if not header.isascii():  # a signature is ASCII; compare_digest refuses other text
        raise SignatureError("bad_signature", f"malformed signature: {_SHAPE}")
    if header.startswith("sha256="):
        if require_timestamp:
            raise SignatureError("timestamp_required", "this shop accepts only the timestamped signature "
                                 "t=<unix seconds>,v1=<hex>")
        if not hmac.compare_digest(sign(secret, body), header):
            raise SignatureError("bad_signature", "wrong signature for this body")
        return
    at, signatures = _parse_timestamped(header)
    expected = _hmac(secret, f"{at}.".encode("ascii") + body)
    valid = False
    for candidate in signatures:  # every candidate is compared, whichever matches
        valid |= _HEX.match(candidate) is not None and hmac.compare_digest(expected, candidate)
    if not valid:
        raise SignatureError("bad_signature", "wrong signature for this body and timestamp")
    if abs(now - at) > tolerance:
        raise SignatureError("stale_signature", f"the signature's timestamp t={at} is {abs(now - at):.0f} seconds "
                             f"from the server's time; at most {tolerance:g} are accepted (sign each request "
                             "when it is sent)")


def signature_headers(secret: str, body: bytes, at: int) -> dict[str, str]:
    """Both signatures of an outgoing body: the plain one and, beside it, the timestamped one."""
    return {SIGNATURE_HEADER: sign(secret, body), TIMESTAMPED_HEADER: sign_timestamped(secret, body, at)}

