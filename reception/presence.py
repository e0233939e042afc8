"""Ephemeral notices between a buyer and their agent: "typing…", and the live word of a read receipt.

Never stored: a notice lost costs a moment of "typing…", nothing else (the read marks themselves are stored,
`reception.store.read_marks`). Each side may tell "typing" at most once every `TYPING_EVERY` seconds per
conversation (the pages send less often; the server drops the rest), and the receiving page hides the notice by
itself `TYPING_SECONDS` after the last one, so a closed tab never leaves "typing…" behind.

A notice reaches the listeners of this instance (the webchat channel for buyers, the workbench's live sockets
for agents) and, on a shop of several instances, the others' through the cluster's `signal` (PostgreSQL
NOTIFY on the live-notice channel, nothing written): the buyer's socket and the agent's may be on different
instances. The stored-event path (`Reception.listen`) is not used: it is for what was committed, and a
"typing" must never become an event row.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from .state import StateKey

if TYPE_CHECKING:
    from .core import Reception

log = logging.getLogger(__name__)

TYPING_EVERY = 2.0  # seconds: at most one "typing" per side and conversation
TYPING_SECONDS = 6  # seconds: how long a page shows "typing…" after the last notice
_KEEP = 2000  # rate-limit entries kept before the stale ones are dropped

Notice = dict[str, Any]
Listener = Callable[[Notice], Awaitable[None]]


class Presence:
    """The shop's ephemeral notices: rate limits on this instance, listeners, and the carrier to the others."""

    def __init__(self, reception: "Reception") -> None:
        self.reception = reception
        self.listeners: list[Listener] = []
        self._typing: dict[tuple[str, str], datetime] = {}  # (conversation, side) → last "typing" passed on

    def listen(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def allow_typing(self, conversation_id: str, side: str, typing: bool) -> bool:
        """Whether a "typing" (or its stop) from `side` ("buyer" | "agent") is passed on now."""
        now, key = self.reception.clock.now(), (conversation_id, side)
        if not typing:  # a stop is passed on only after a start it ends
            return self._typing.pop(key, None) is not None
        last = self._typing.get(key)
        if last is not None and (now - last).total_seconds() < TYPING_EVERY:
            return False
        if len(self._typing) >= _KEEP:
            self._typing = {k: at for k, at in self._typing.items() if (now - at).total_seconds() < TYPING_SECONDS}
        self._typing[key] = now
        return True

    def stopped(self, conversation_id: str, side: str) -> None:
        """The side sent a message: its next keystroke may say "typing" at once."""
        self._typing.pop((conversation_id, side), None)

    async def tell(self, notice: Notice) -> None:
        """Pass `notice` to the listeners here and on the other instances of the shop."""
        await self.heard(notice)
        try:
            await self.reception.cluster.signal(notice)
        except Exception as exc:  # ephemeral: never the caller's failure
            log.warning("could not tell the other instances an ephemeral notice: %s", exc)

    async def heard(self, notice: Notice) -> None:
        """A notice from this instance or another: to every listener here."""
        for listener in self.listeners:
            try:
                await listener(notice)
            except Exception:
                log.exception("ephemeral listener failed on %s", notice.get("kind"))


STATE_KEY: StateKey[Presence] = StateKey("presence")


def presence(reception: "Reception") -> Presence:
    """The shop's `Presence`, made on first use."""
    found = reception.state.get(STATE_KEY)
    if found is None:
        found = reception.state[STATE_KEY] = Presence(reception)
    return found
