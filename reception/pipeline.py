"""The pipeline every channel uses: record → bot → handover votes → router, atomically.

One buyer's messages are handled one at a time (a lock per buyer and
channel). Everything a message causes (the buyer's message, the bot's reply,
the routing decision, the events, the idempotency record) is one
transaction, and the caller gets its answer only once that is durable.
Transactions that change routing state are handed over while the router
decides (`Router.deciding`), so the disk sees routing decisions in the order
they were made, on one instance or many.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from . import bigsale, coverage, modes
from . import events as ev
from .core import Reception
from .events import Event
from .faq.text import language, normalize
from .hooks import call_all, first_result
from .models import BotAnswer, Conversation, Handover, Inbound, Message, Outcome, Reply
from .routing import satisfaction
from .store import DuplicateMessage, StoreError, Transaction

log = logging.getLogger("reception.pipeline")


# Under a platform penalty the bot hands over only when the buyer asks or it cannot answer.
PENALTY_HANDOVERS = ("requested", "low_confidence")


class MessageConflict(ValueError):
    """A `message_id` that was already used by another buyer."""


def _as_handover(vote: Handover | str) -> Handover:
    return vote if isinstance(vote, Handover) else Handover(reason=str(vote))


async def _replay(reception: Reception, key: str, inbound: Inbound) -> Outcome | None:
    stored = await reception.store.stored_response(key)
    if stored is None:
        return None
    customer_id, body = stored
    if customer_id != inbound.customer_id:
        raise MessageConflict(f"message_id {inbound.message_id!r} was already used by another customer")
    return Outcome.model_validate(body)


async def _bot_turn(
    reception: Reception, tx: Transaction, conv: Conversation, message: Message
) -> tuple[list[Reply], BotAnswer | None, Handover | None]:
    """Ask the bot and the handover votes; record the bot's reply and the handover request."""
    answer: BotAnswer | None = await first_result(
        reception.hook.bot_answer, message=message, conversation=conv, reception=reception
    )
    votes = [
        _as_handover(v)
        for v in await call_all(
            reception.hook.handover_vote, message=message, conversation=conv, answer=answer, reception=reception
        )
    ]
    handover = votes[0] if votes else None
    replies: list[Reply] = []
    now = message.created_at
    if answer is not None and answer.skill:
        tx.save_skill_state(conv.id, answer.skill, answer.skill_state, now)
    if answer is not None and (handover is None or handover.keep_answer):
        replies.append(Reply(sender="bot", text=answer.text, intent=answer.intent, confidence=answer.confidence))
        tx.add_message(Message(conversation_id=conv.id, sender="bot", text=answer.text, created_at=now,
                               intent=answer.intent, confidence=answer.confidence, lang=conv.lang))
        tx.add_event(Event(name=ev.BOT_ANSWERED, at=now, conversation_id=conv.id, customer_id=conv.customer_id,
                           data={"intent": answer.intent, "confidence": answer.confidence,
                                 "runner_up": answer.runner_up, "runner_up_confidence": answer.runner_up_confidence}))
    if handover is not None:
        sure = answer is not None and answer.confidence >= bigsale.answer_threshold(reception.settings, now,
                                                                                     answer.threshold)
        conv.intent = answer.intent if sure and answer else None
        handover.group = handover.group or (answer.group if sure and answer else None)
        handover.detail.update(votes=[v.reason for v in votes], confidence=answer.confidence if answer else None)
    return replies, answer, handover


def _record_handover(tx: Transaction, conv: Conversation, handover: Handover, now: Any) -> None:
    tx.add_event(Event(name=ev.HANDOVER_REQUESTED, at=now, conversation_id=conv.id, customer_id=conv.customer_id,
                       data={"reason": handover.reason, "intent": conv.intent, **handover.detail}))


def _finish(tx: Transaction, conv: Conversation, replies: list[Reply], handover: Handover | None,
            key: str | None, inbound: Inbound, now: Any) -> Outcome:
    tx.save_conversation(conv)
    outcome = Outcome(conversation_id=conv.id, status=conv.status, replies=replies, handover=handover)
    if key:
        tx.remember_response(key, inbound.customer_id, outcome.model_dump(mode="json"), now)
    return outcome


async def receive(reception: Reception, inbound: Inbound) -> Outcome:
    """Handle one buyer message from any channel and say what happened."""
    store, clock, router = reception.store, reception.clock, reception.router
    key = f"{inbound.channel}:{inbound.message_id}" if inbound.message_id else None
    async with reception.lock(f"{inbound.channel}\x00{inbound.customer_id}"):
        if key and (prior := await _replay(reception, key, inbound)) is not None:
            return prior
        now = clock.now()
        tx = store.transaction()
        text = inbound.text or ""
        conv = router.held_for(inbound.channel, inbound.customer_id) or \
            await store.latest_conversation(inbound.channel, inbound.customer_id)
        if conv is None or conv.status == "closed":
            closed, conv = conv, None
            thanks = satisfaction.capture(tx, closed, text, now, reception.settings.routing.rating_window_minutes)
            if closed is not None and thanks is not None:
                # the rating and the thanks belong to the conversation that was rated
                tx.add_message(Message(conversation_id=closed.id, sender="buyer", text=text, created_at=now,
                                       message_id=inbound.message_id, lang=closed.lang))
                tx.add_message(Message(conversation_id=closed.id, sender="system", text=thanks[0].text,
                                       created_at=now, lang=closed.lang, kind="rating_thanks"))
                outcome = Outcome(conversation_id=closed.id, status="bot", replies=thanks)
                if key:
                    tx.remember_response(key, inbound.customer_id, outcome.model_dump(mode="json"), now)
                await _commit(reception, tx, key, inbound, routing=False)
                await reception.emit(tx.events)
                return outcome
            conv = Conversation(id=reception.new_id(), channel=inbound.channel, customer_id=inbound.customer_id,
                                entry=inbound.entry, created_at=now, updated_at=now,
                                lang=language(text) if text else "zh")
            tx.add_event(Event(name=ev.CONVERSATION_STARTED, at=now, conversation_id=conv.id,
                               customer_id=conv.customer_id, data={"channel": conv.channel, "entry": conv.entry}))
        if text:
            conv.lang = language(text, conv.lang)
        message = Message(conversation_id=conv.id, sender="buyer", text=text, created_at=now, card=inbound.card,
                          message_id=inbound.message_id, lang=conv.lang)
        tx.add_message(message)
        data: dict[str, Any] = {"message_id": inbound.message_id, "chars": len(text), "lang": message.lang,
                                "card": inbound.card.model_dump() if inbound.card else None,
                                "sent_at": inbound.sent_at.isoformat() if inbound.sent_at else None,
                                "status": conv.status}
        tx.add_event(Event(name=ev.MESSAGE_RECEIVED, at=now, conversation_id=conv.id,
                           customer_id=conv.customer_id, data=data))
        new = conv.status == "bot" and conv.created_at == now and conv.id not in router.active
        conv = router.current(conv)  # held by a human, the queue or the pool: the router's copy is fresh
        handover, order_state, replies = None, None, []
        penalty = modes.penalty_active(reception, now)
        if conv.status in ("bot", "offline"):  # the bot answers unless a human or the queue holds the buyer
            conv.last_buyer_at = conv.updated_at = now
            replies, _, handover = await _bot_turn(reception, tx, conv, message)
            conv.last_question = normalize(text) or None
            if handover is not None and penalty and handover.reason not in PENALTY_HANDOVERS:
                handover = None  # robot reception: the bot keeps the buyer unless they ask or it cannot answer
            if handover is not None:
                _record_handover(tx, conv, handover, now)
                order_state = await first_result(reception.hook.buyer_order_state, customer_id=conv.customer_id,
                                                 channel=conv.channel, reception=reception)
        async with router.deciding() as decision:
            conv = router.current(conv)  # another instance may have taken the buyer meanwhile (a pool run)
            if conv.id in router.active:
                if handover is not None and handover.reason == "requested":
                    conv.asked_human_at = conv.asked_human_at or now
                replies += await router.buyer_wrote(tx, conv, now)
            elif handover is not None:
                replies += await router.hand_over(tx, conv, handover, now, order_state, penalty)
            elif new and router.book.agents:
                reason = coverage.takeover_reason(reception, conv, now) or router.capacity_reason(conv)
                if reason is not None:  # nobody to hand over to: the bot says so and the pool keeps the buyer
                    replies += router.park(tx, conv, now, live=True, reason=reason)
            outcome = _finish(tx, conv, replies, handover, key, inbound, now)
            pending = decision.submit(tx)
        await _wait(reception, pending, key, inbound)
    await reception.emit(tx.events)
    return outcome


async def _commit(reception: Reception, tx: Transaction, key: str | None, inbound: Inbound, routing: bool) -> None:
    await _wait(reception, reception.store.submit(tx), key, inbound, routing)


async def _wait(reception: Reception, pending: asyncio.Future[None], key: str | None, inbound: Inbound,
                routing: bool = True) -> None:
    """Await a submitted transaction; after a failure, rebuild the router's state from disk."""
    try:
        await pending
    except (DuplicateMessage, StoreError) as exc:
        if routing:
            await reception.cluster.restore(reception.router)
        if isinstance(exc, DuplicateMessage) and key and await _replay(reception, key, inbound) is not None:
            raise MessageConflict(f"message_id {inbound.message_id!r} was already used by another customer") from None
        raise
