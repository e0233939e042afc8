"""What a valid configuration still leaves open: one warning line each, logged when the server starts.

Default tokens (those of the example config, or a placeholder such as
``change-me``), a webhook that takes unsigned messages and a ``/metrics``
that anyone can read are legal (the demo runs that way) but not how a shop
should face the internet; `risks` names each one and the key that closes it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..auth import digest
from . import Settings

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "data" / "reception.example.toml"
# placeholders people type when a token is asked for (at least 8 characters, as tokens need)
PLACEHOLDERS = ("change-me", "changeme", "change-me-please", "password", "secret-token", "a-long-random-secret")


def _example_secrets() -> set[str]:
    """The tokens and secrets written in the example config (commented-out ones included), and the placeholders."""
    found = set(PLACEHOLDERS)
    try:
        text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    except OSError:
        return found
    lines = [line.lstrip("# ") for line in text.splitlines() if line.lstrip("# ").startswith(("token", "secret"))]
    for line in lines:
        try:
            found.update(str(v) for v in tomllib.loads(line).values())
        except tomllib.TOMLDecodeError:
            continue
    return found


def risks(settings: Settings) -> list[str]:
    """One line per open door: default tokens, no webhook secret, an open ``/metrics``, a widget secret that
    instances on one PostgreSQL database would not share."""
    known = _example_secrets()
    digests = {digest(value) for value in known}
    lines = []
    defaults = [f"[{name}] token" for name, section in (("admin", settings.admin), ("metrics", settings.metrics))
                if section.token in digests]
    defaults += [f"agent {agent.id}'s token" for agent in settings.agents if agent.token in digests]
    if defaults:
        lines.append(f"default tokens in use ({', '.join(defaults)}): anyone who has read the example config can "
                     "use them; set your own (`python -c 'import secrets; print(secrets.token_urlsafe(24))'`)")
    secret = settings.webhook.secret
    if secret is None:
        lines.append("no [webhook] secret: unsigned messages to /api/v1/webhook/messages are accepted from anyone "
                     "who can reach this server; set [webhook] secret")
    elif secret in known or "change-me" in secret:
        lines.append("[webhook] secret is the example's: anyone who has read the example config can sign "
                     "messages; set your own")
    if settings.metrics.token is None:
        lines.append("/metrics is open to anyone who can reach this server; set [metrics] token to require "
                     "a bearer token")
    if settings.store.kind == "postgresql" and settings.webchat.secret is None and settings.webchat.key_file is None:
        lines.append("on PostgreSQL several instances may serve the shop, and each would sign widget tokens with "
                     "its own key file: set [webchat] secret (or RECEPTION_WEBCHAT__SECRET), the same on every "
                     "instance")
    return lines
