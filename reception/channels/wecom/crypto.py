"""WeCom's callback crypto (企业微信 回调加解密): the msg_signature, the XML envelope, the AES payload.

``msg_signature`` is the SHA-1 of the token, the timestamp, the nonce and the
encrypted text, sorted and joined; it is compared here in constant time. The
encrypted text is AES-256-CBC of ``random(16) + length(4) + message +
corp_id`` under the EncodingAESKey; wechatpy (the optional ``wecom`` extra)
decrypts it and checks the corp id. XML is read only after a size check and
without any DTD, so an entity cannot expand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import xml.etree.ElementTree as ET

from reception.plugin import ConfigError

from .config import EXTRA_HINT, NAME

MAX_XML = 64 * 1024  # bytes; WeCom's callbacks are well under 1 KiB
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class CallbackRefused(ValueError):
    """A callback that is not WeCom's, or not readable: answered with `status` and `code`, logged in one line."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """WeCom's msg_signature: hex SHA-1 of the four values sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8")).hexdigest()


def parse_xml(data: bytes | str) -> dict[str, str]:
    """The child elements of a WeCom XML document as {tag: text}; refuses a DTD, a large or broken document."""
    if len(data) > MAX_XML:
        raise CallbackRefused(413, "body_too_large", f"the XML is over {MAX_XML} bytes")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CallbackRefused(400, "invalid_encoding", "the XML is not UTF-8") from None
    if _DTD.search(data):
        raise CallbackRefused(400, "invalid_xml", "a DTD or entity declaration is not accepted")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise CallbackRefused(400, "invalid_xml", f"not well-formed XML ({exc})") from None
    return {child.tag: (child.text or "").strip() for child in root}


class Crypto:
    """Checks and opens WeCom's callbacks for one corp, token and EncodingAESKey."""

    def __init__(self, token: str, encoding_aes_key: str, corp_id: str) -> None:
        try:
            from wechatpy.enterprise.crypto import PrpCrypto  # type: ignore[import-untyped]
        except Exception:  # ImportError, or wechatpy's own error when no AES backend is installed
            raise ConfigError(f"plugin.{NAME}: the WeCom channel needs wechatpy: {EXTRA_HINT}") from None
        key = base64.b64decode(encoding_aes_key + "=")
        if len(key) != 32:
            raise ConfigError(f"plugin.{NAME}.encoding_aes_key: does not decode to a 32-byte AES key")
        self._prp = PrpCrypto(key)
        self.token = token
        self.corp_id = corp_id

    def check(self, msg_signature: str | None, timestamp: str | None, nonce: str | None, encrypted: str) -> None:
        """Raise `CallbackRefused` (401) unless `msg_signature` signs the other three with our token."""
        if not msg_signature or timestamp is None or nonce is None:
            raise CallbackRefused(400, "missing_parameter", "msg_signature, timestamp and nonce are required")
        expected = signature(self.token, timestamp, nonce, encrypted).encode("ascii")
        if not hmac.compare_digest(expected, msg_signature.lower().encode("utf-8", "replace")):
            raise CallbackRefused(401, "bad_signature", "msg_signature does not match")

    def decrypt(self, encrypted: str) -> str:
        """The plain text inside `encrypted`; `CallbackRefused` (400) when it does not open or is for another corp."""
        if not encrypted or len(encrypted) > MAX_XML:
            raise CallbackRefused(400, "invalid_ciphertext", "no encrypted text")
        try:
            return str(self._prp.decrypt(encrypted, self.corp_id))
        except Exception:  # bad base64, padding, length or corp id: all the same to the sender
            raise CallbackRefused(400, "invalid_ciphertext",
                                  "the encrypted text does not open with this EncodingAESKey and corp_id") from None

    def open(self, msg_signature: str | None, timestamp: str | None, nonce: str | None, encrypted: str) -> str:
        """Check the signature, then decrypt: what a verified callback carries."""
        self.check(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)
