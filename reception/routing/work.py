"""What an agent does, whoever drives it: reply to a buyer, close a conversation, change status.

The HTTP API (the workbench) and the simulator's agents both call these, so a
rule about agents' work lives here once. `check` is the caller's permission
rule, applied to the live conversation under the router's lock; it raises to
refuse, and then nothing is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..models import Conversation, Image, Message
from .actions import RoutingError
from .agents import AgentState

if TYPE_CHECKING:
    from ..core import Reception

Check = Callable[[Conversation], None]


def _anyone(conv: Conversation) -> None:
    return None


async def reply(reception: "Reception", conv: Conversation, author: str, text: str,
                check: Check = _anyone, image: Image | None = None) -> Message:
    """`author` (an agent id, or "admin") writes `text` (and/or sends the stored photo `image`) to the buyer;
    raises `Refused` (compliance) or `RoutingError` (the conversation is closed)."""
    now = reception.clock.now()
    message = Message(conversation_id=conv.id, sender="agent", text=text, created_at=now, agent_id=author,
                      lang=conv.lang, image=image)
    message = await reception.filter_outbound(message)
    router = reception.router
    async with router.change() as tx:
        conv = router.current(conv)
        check(conv)  # it may have moved while the filter ran
        if conv.status == "closed":
            raise RoutingError(409, "conversation_closed", "the conversation is closed")
        agent = router.book.get(author)
        welcome = (agent.welcome or "").format(name=agent.name) if agent is not None else None
        if message.image is None and message.text == welcome:
            message.kind = "welcome"  # the canned greeting is not a reply (a photo always is one)
        reception.stage(tx, conv, message)
        if conv.status == "assigned":
            router.agent_replied(tx, conv, message, now)
    return message


async def close(reception: "Reception", conv: Conversation, by: str, check: Check = _anyone) -> Conversation:
    """End a conversation held by a human, the queue or the pool; raises `RoutingError` otherwise."""
    router = reception.router
    async with router.change() as tx:
        conv = router.current(conv)
        check(conv)
        if conv.status in ("closed", "bot"):
            raise RoutingError(409, f"conversation_{conv.status}",
                               "a conversation held by the bot cannot be closed" if conv.status == "bot"
                               else "the conversation is closed")
        await router.close(tx, conv, reception.clock.now(), by=by)
    return conv


async def set_status(reception: "Reception", agent: AgentState, status: str) -> None:
    """Online, suspended or offline; coming back serves the queue at once."""
    router, now = reception.router, reception.clock.now()
    async with router.change() as tx:
        if router.set_status(tx, agent, status, now) and status != "offline":
            await router.drain(tx, now)
