"""The pipeline every channel uses: record → bot → handover votes → reply, atomically.

One buyer's messages are handled one at a time (a lock per buyer and
channel). Everything a message causes (the buyer's message, the bot's reply,
the status change, the events, the idempotency record) is written in one
transaction, and the caller gets its answer only once that is durable.
"""

from __future__ import annotations

from typing import Any

from . import events as ev
from .core import Reception
from .events import Event
from .faq.text import language
from .hooks import call_all, first_result
from .models import BotAnswer, Conversation, Handover, Inbound, Message, Outcome, Reply
from .store import DuplicateMessage, Transaction
from .texts import handover_notice


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
) -> tuple[list[Reply], Handover | None]:
    """Ask the bot and the handover votes; record the reply and the handover."""
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
    now, lang = message.created_at, message.lang or "zh"
    if answer is not None and (handover is None or handover.keep_answer):
        replies.append(Reply(sender="bot", text=answer.text, intent=answer.intent, confidence=answer.confidence))
        tx.add_message(Message(conversation_id=conv.id, sender="bot", text=answer.text, created_at=now,
                               intent=answer.intent, confidence=answer.confidence, lang=lang))
        tx.add_event(Event(name=ev.BOT_ANSWERED, at=now, conversation_id=conv.id, customer_id=conv.customer_id,
                           data={"intent": answer.intent, "confidence": answer.confidence,
                                 "runner_up": answer.runner_up, "runner_up_confidence": answer.runner_up_confidence}))
    if handover is not None:
        handover.group = handover.group or (answer.group if answer else None)
        conv.status, conv.handover_reason, conv.group = "queued", handover.reason, handover.group
        tx.add_event(Event(
            name=ev.HANDOVER_REQUESTED, at=now, conversation_id=conv.id, customer_id=conv.customer_id,
            data={"reason": handover.reason, "group": handover.group, "votes": [v.reason for v in votes],
                  "intent": answer.intent if answer else None,
                  "confidence": answer.confidence if answer else None, **handover.detail},
        ))
        tx.add_event(Event(name=ev.CONVERSATION_WAITING, at=now, conversation_id=conv.id,
                           customer_id=conv.customer_id, data={"status": "queued", "group": handover.group}))
        notice = handover_notice(handover.reason, lang)
        replies.append(Reply(sender="system", text=notice))
        tx.add_message(Message(conversation_id=conv.id, sender="system", text=notice, created_at=now, lang=lang))
    return replies, handover


async def receive(reception: Reception, inbound: Inbound) -> Outcome:
    """Handle one buyer message from any channel and say what happened."""
    store, clock = reception.store, reception.clock
    key = f"{inbound.channel}:{inbound.message_id}" if inbound.message_id else None
    async with reception.lock(f"{inbound.channel}\x00{inbound.customer_id}"):
        if key and (prior := await _replay(reception, key, inbound)) is not None:
            return prior
        now = clock.now()
        tx = store.transaction()
        conv = await store.open_conversation(inbound.channel, inbound.customer_id)
        if conv is None:
            conv = Conversation(id=reception.new_id(), channel=inbound.channel, customer_id=inbound.customer_id,
                                entry=inbound.entry, created_at=now, updated_at=now)
            tx.add_event(Event(name=ev.CONVERSATION_STARTED, at=now, conversation_id=conv.id,
                               customer_id=conv.customer_id, data={"channel": conv.channel, "entry": conv.entry}))
        text = inbound.text or ""
        message = Message(conversation_id=conv.id, sender="buyer", text=text, created_at=now, card=inbound.card,
                          message_id=inbound.message_id, lang=language(text) if text else "zh")
        tx.add_message(message)
        data: dict[str, Any] = {"message_id": inbound.message_id, "chars": len(text), "lang": message.lang,
                                "card": inbound.card.model_dump() if inbound.card else None,
                                "sent_at": inbound.sent_at.isoformat() if inbound.sent_at else None,
                                "status": conv.status}
        tx.add_event(Event(name=ev.MESSAGE_RECEIVED, at=now, conversation_id=conv.id,
                           customer_id=conv.customer_id, data=data))
        replies: list[Reply] = []
        handover = None
        if conv.status == "bot":
            replies, handover = await _bot_turn(reception, tx, conv, message)
        conv.updated_at = now
        tx.save_conversation(conv)
        outcome = Outcome(conversation_id=conv.id, status=conv.status, replies=replies, handover=handover)
        if key:
            tx.remember_response(key, inbound.customer_id, outcome.model_dump(mode="json"), now)
        try:
            await store.commit(tx)
        except DuplicateMessage:
            # the same message_id committed by another buyer's request in the meantime
            if key and (prior := await _replay(reception, key, inbound)) is not None:
                return prior
            raise
    await reception.emit(tx.events)
    return outcome
