"""The `Channel` base class every channel adapter extends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core import Reception
    from ..models import Conversation, Message


class DeliveryFailed(RuntimeError):
    """A later message could not be delivered now; it is retried with back-off."""


class Channel:
    """A way buyers reach the shop.

    Incoming: the channel turns its wire format into `Inbound` and calls
    ``reception.receive``. Outgoing: when `delivers_later` is true, messages
    sent to the buyer after the exchange (an agent's reply, a queue update)
    are stored in the delivery outbox in the same transaction as the message,
    and `deliver` is called, and retried, until it succeeds.
    """

    name: str = "channel"

    def __init__(self, reception: "Reception") -> None:
        self.reception = reception

    @property
    def delivers_later(self) -> bool:
        """Whether later messages must be pushed to the buyer by this channel."""
        return False

    def payload(self, conversation: "Conversation", message: "Message") -> dict[str, Any]:
        """The JSON document that carries `message` to the buyer (stored in the outbox)."""
        return {
            "conversation_id": conversation.id,
            "customer_id": conversation.customer_id,
            "message": {
                "sender": message.sender,
                "text": message.text,
                "created_at": message.created_at.isoformat(),
            },
        }

    async def deliver(self, payload: dict[str, Any]) -> None:
        """Push one outbox payload to the buyer; raise `DeliveryFailed` to retry later."""
        raise NotImplementedError(f"channel {self.name} delivers later but has no deliver()")

    async def close(self) -> None:
        """Release what the channel holds (client sessions); called once the server has stopped."""
