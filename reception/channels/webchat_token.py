"""Chat-widget tokens: the signed, expiring proof of which buyer a browser is, and the secret that signs them.

A token is ``<customer_id>.<expires, unix seconds>.<hex HMAC-SHA256>``
(the signature cut to 40 digits). The signing secret comes from
``[webchat] secret`` (or ``RECEPTION_WEBCHAT__SECRET``) or else from a key
file next to the database (``<database>.webchat-key``, mode 0600, made at
first start; on PostgreSQL ``reception.webchat-key`` beside the config); it
is never stored in the database. Secrets rotated out
(``[webchat] previous_secrets``, or the key file's later lines) still verify
tokens; new ones are signed with the current secret. Tokens of releases
before expiry (``<customer_id>.<signature>``) still verify and are renewed
at once. See docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..config import ConfigError, Settings
from ..store import Store

log = logging.getLogger("reception.webchat")

LEGACY_KV_KEY = "webchat_secret"  # where earlier releases kept a generated secret, in plain text: moved out at start
MIN_SECRET = 16
_SIGNATURE_DIGITS = 40
_KEY_FILE_HEADER = (
    "# reception: the secret that signs chat-widget buyer tokens. Keep this file private (mode 0600).\n"
    "# The first secret line signs new tokens; lines below it are earlier secrets, still accepted.\n"
)


def key_file_path(settings: Settings) -> Path:
    """``[webchat] key_file``, or ``<database file>.webchat-key`` beside a SQLite database; on PostgreSQL
    ``reception.webchat-key`` beside the config (instances on several machines set `secret` or share `key_file`)."""
    if settings.webchat.key_file is not None:
        return settings.webchat.key_file
    db = settings.store.path
    return db.with_name(db.name + ".webchat-key" if settings.store.kind == "sqlite" else "reception.webchat-key")


def read_key_file(path: Path) -> list[str]:
    """The secrets in a key file, current first; a file readable by others is made private (0600)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o); made private (0600)", path, mode)
        path.chmod(0o600)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the widget key file: {exc}") from None
    found = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not found:
        raise ConfigError(f"{path}: the widget key file holds no secret")
    for number, secret in enumerate(found, start=1):
        if len(secret) < MIN_SECRET:
            raise ConfigError(f"{path}: secret {number} is shorter than {MIN_SECRET} characters")
    return found


def _write_new(path: Path, secret_lines: list[str]) -> bool:
    """Create the key file (0600 from the first byte); False when it exists already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(_KEY_FILE_HEADER + "".join(f"{line}\n" for line in secret_lines))
        out.flush()
        os.fsync(out.fileno())
    os.chmod(path, 0o600)  # a umask cannot widen it, but a restrictive one set odd bits: be exact
    return True


def _append(path: Path, secret: str) -> None:
    """Add an earlier secret at the end of the key file (still accepted, never used to sign)."""
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"{secret}\n")
        out.flush()
        os.fsync(out.fileno())


async def load_secrets(settings: Settings, store: Store) -> list[str]:
    """The widget secrets, current first, after moving a secret kept in the database out of it.

    An earlier release kept a generated secret in the ``kv`` table. It is
    written to the key file (as its current secret when the file is new, or
    as an earlier one) before it is deleted from the database, so tokens it
    signed keep working. With ``[webchat] secret`` set it was never used and
    is only deleted.
    """
    config = settings.webchat
    legacy = await store.value(LEGACY_KV_KEY)
    if config.secret:
        found = [config.secret, *config.previous_secrets]
    else:
        path = key_file_path(settings)
        if not path.exists():
            _write_new(path, [legacy or secrets.token_urlsafe(32)])  # False: another instance made it; read theirs
        found = read_key_file(path) + list(config.previous_secrets)
        if legacy and legacy not in found:
            _append(path, legacy)
            found.append(legacy)
        if legacy:
            log.info("moved the widget secret out of the database into %s", path)
    if legacy is not None:
        tx = store.transaction()
        tx.delete_value(LEGACY_KV_KEY)
        await store.commit(tx)
    return found


@dataclass(frozen=True)
class Verified:
    """A token that verified: whose it is, when it expires (None: a token from before expiry), and whether the
    current secret signed it (False: an earlier one)."""

    customer_id: str
    expires: datetime | None
    current: bool


class TokenSigner:
    """Issues and verifies widget tokens with the current secret and the earlier ones."""

    def __init__(self, secret_list: list[str], lifetime: timedelta) -> None:
        if not secret_list:
            raise ValueError("at least one secret is needed")
        self._keys = [s.encode("utf-8") for s in secret_list]
        self.lifetime = lifetime

    @staticmethod
    def _mac(key: bytes, message: str) -> str:
        return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()[:_SIGNATURE_DIGITS]

    def issue(self, customer_id: str, now: datetime) -> tuple[str, datetime]:
        """A token for `customer_id` that expires `lifetime` after `now`, and when it expires."""
        expires = int((now + self.lifetime).timestamp())
        body = f"{customer_id}.{expires}"
        return f"{body}.{self._mac(self._keys[0], 'v2.' + body)}", datetime.fromtimestamp(expires, timezone.utc)

    def _signer_of(self, message: str, signature: str) -> int | None:
        """The index of the secret that signed `message` (0: the current one), or None."""
        found = None
        for index, key in enumerate(self._keys):  # every secret is tried, whichever matches
            if hmac.compare_digest(self._mac(key, message), signature) and found is None:
                found = index
        return found

    def verify(self, token: str | None, now: datetime) -> Verified | None:
        """Whose `token` is, or None when it is forged, malformed or expired."""
        if not token or not token.isascii() or len(token) > 200:  # issued tokens are ASCII; compare_digest wants it
            return None
        parts = token.split(".")
        if not parts[0].startswith("wc_") or any(not part for part in parts):
            return None
        if len(parts) == 2:  # an earlier release's token: customer id and signature, no expiry
            customer_id, signature = parts
            index = self._signer_of(customer_id, signature)
            return None if index is None else Verified(customer_id, None, index == 0)
        if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
            return None
        customer_id, expires_text, signature = parts
        index = self._signer_of(f"v2.{customer_id}.{expires_text}", signature)
        if index is None:
            return None
        expires = datetime.fromtimestamp(int(expires_text), timezone.utc)
        return Verified(customer_id, expires, index == 0) if now < expires else None

    def due_for_renewal(self, verified: Verified, now: datetime) -> bool:
        """True for a token past half its life, without an expiry, or signed with an earlier secret:
        the session hands out a fresh one, so buyers move to the current secret as they come back."""
        return not verified.current or verified.expires is None or verified.expires - now < self.lifetime / 2
