"""The `Channel` base class every channel adapter extends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..models import Message

if TYPE_CHECKING:
    from datetime import datetime

    from ..core import Reception
    from ..models import Conversation, Reply
    from ..openapi import Routes
    from ..store import Transaction


MAX_BACKOFF = 3600.0  # seconds: the longest wait between two tries of a delivery, by default


class DeliveryFailed(RuntimeError):
    """A later message could not be delivered now; it is retried with back-off."""


class Channel:
    """A way buyers reach the shop.

    Incoming: the channel turns its wire format into `Inbound` and calls
    ``reception.receive``. Outgoing: when `delivers_later` is true, messages
    sent to the buyer after the exchange (an agent's reply, a queue update)
    are stored in the delivery outbox in the same transaction as the message,
    and `deliver` is called, and retried, until it succeeds.

    A platform with no synchronous reply (every message to the buyer is a call
    to its API) sets `pushes_replies`: the replies of the exchange itself (the
    bot's answer, the queue notice: ``Outcome.replies``) go to the outbox too,
    in the same transaction, and reach the buyer through `deliver` like later
    messages. `max_attempts` and `retry_after` are the channel's own retry
    policy; the defaults are ``[webhook] callback_max_attempts`` and 2, 4, 8 …
    seconds, at most an hour.
    """

    name: str = "channel"
    # True: Outcome.replies are delivered through the outbox as well (a push-only platform)
    pushes_replies: bool = False
    # deliveries tried at most this many times; None: [webhook] callback_max_attempts
    max_attempts: int | None = None

    def __init__(self, reception: "Reception") -> None:
        self.reception = reception

    @property
    def delivers_later(self) -> bool:
        """Whether later messages must be pushed to the buyer by this channel."""
        return False

    def payload(self, conversation: "Conversation", message: "Message") -> dict[str, Any]:
        """The JSON document that carries `message` to the buyer (stored in the outbox); a photo as its
        ``image`` (id, mime, size, width, height and the paths to fetch it with the admin token)."""
        body: dict[str, Any] = {
            "conversation_id": conversation.id,
            "customer_id": conversation.customer_id,
            "message": {
                "sender": message.sender,
                "text": message.text,
                "created_at": message.created_at.isoformat(),
            },
        }
        if message.image is not None:
            body["message"]["image"] = message.image.view()
        return body

    def retry_after(self, attempts: int) -> float:
        """Seconds to wait before the next try, after `attempts` failed ones (2, 4, 8 …, at most an hour)."""
        return min(MAX_BACKOFF, 2.0 ** attempts)

    async def deliver(self, payload: dict[str, Any]) -> None:
        """Push one outbox payload to the buyer; raise `DeliveryFailed` to retry later."""
        raise NotImplementedError(f"channel {self.name} delivers later but has no deliver()")

    # -- its life: the hub calls these, in this order ------------------------------------------
    def routes(self, route: "Routes") -> None:
        """Add the channel's HTTP routes (once, at start, with every channel registered); handlers are methods."""

    async def start(self) -> None:
        """The store is open and no request has come yet: load state, start background work."""

    async def stop(self) -> None:
        """The server starts stopping: close long-lived connections (WebSockets); requests in flight finish."""

    async def close(self) -> None:
        """Release what the channel holds (client sessions); called once the server has stopped."""


def push_replies(channels: dict[str, Channel], tx: "Transaction", conversation: "Conversation",
                 replies: "list[Reply]", now: "datetime") -> None:
    """Add the exchange's `replies` to the outbox of a channel that `pushes_replies` (else nothing), in `tx`."""
    channel = channels.get(conversation.channel)
    if channel is None or not channel.pushes_replies:
        return
    for reply in replies:
        message = Message(conversation_id=conversation.id, sender=reply.sender, text=reply.text, created_at=now,
                          intent=reply.intent, confidence=reply.confidence, lang=conversation.lang)
        tx.enqueue_delivery(conversation.id, channel.name, channel.payload(conversation, message), now)
