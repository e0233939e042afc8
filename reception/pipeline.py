"""The pipeline every channel uses: record → bot → handover votes → router, atomically.

One buyer's messages are handled one at a time (a lock per buyer and
channel). Everything a message causes (the buyer's message, the bot's reply,
the routing decision, the events, the idempotency record) is one
transaction, and the caller gets its answer only once that is durable.
The routing decision commits through `Router.change`, so the disk sees
routing decisions in the order they were made, on one instance or many; a
rating of a closed conversation, which routes nothing, through
`Reception.commit`. Each step takes the message's `Turn`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from . import bigsale, coverage, events as ev, modes, texts
from .channels.base import push_replies
from .core import Reception
from .events import Event
from .faq.text import language, normalize
from .hooks import call_all, first_result
from .models import BotAnswer, Conversation, Handover, Inbound, Message, Outcome, Reply
from .routing import satisfaction
from .store import DuplicateMessage, Transaction

log = logging.getLogger("reception.pipeline")


# Under a platform penalty the bot hands over only when the buyer asks or it cannot answer.
PENALTY_HANDOVERS = ("requested", "low_confidence")
# The buyer asked for a person, in words or by getting upset: the reason a waiting buyer is shown with.
ASKED = ("requested", "angry")


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


@dataclass
class Turn:
    """One buyer message on its way through the pipeline: what came in, and what it has caused so far."""

    reception: Reception
    inbound: Inbound
    key: str | None  # the idempotency key (channel and message_id), when the channel gave an id
    now: datetime
    tx: Transaction
    text: str
    conv: Conversation = None  # type: ignore[assignment]  # set by `_record` before any later step
    new: bool = False  # the buyer's first message of a new conversation
    answer: BotAnswer | None = None
    handover: Handover | None = None
    order_state: str | None = None
    replies: list[Reply] = field(default_factory=list)

    def outcome(self, conv: Conversation, status: str | None = None) -> Outcome:
        """What the channel answers, remembered under the idempotency key in the same transaction."""
        outcome = Outcome(conversation_id=conv.id, status=status or conv.status, replies=self.replies,
                          handover=self.handover)
        if self.key:
            self.tx.remember_response(self.key, self.inbound.customer_id, outcome.model_dump(mode="json"), self.now)
        push_replies(self.reception.channels, self.tx, conv, self.replies, self.now)
        return outcome


async def _bot_turn(turn: Turn, message: Message) -> None:
    """Ask the bot and the handover votes; record the bot's reply and the handover request."""
    reception, tx, conv, now = turn.reception, turn.tx, turn.conv, turn.now
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
    if answer is not None and answer.skill:
        tx.save_skill_state(conv.id, answer.skill, answer.skill_state, now)
    if answer is not None and (handover is None or handover.keep_answer):
        turn.replies.append(Reply(sender="bot", text=answer.text, intent=answer.intent, confidence=answer.confidence))
        tx.add_message(Message(conversation_id=conv.id, sender="bot", text=answer.text, created_at=now,
                               intent=answer.intent, confidence=answer.confidence, lang=conv.lang))
        tx.add_event(Event.of(ev.BotAnswered(intent=answer.intent, confidence=answer.confidence,
                                             runner_up=answer.runner_up,
                                             runner_up_confidence=answer.runner_up_confidence), now, conv))
    if handover is not None:
        sure = answer is not None and answer.confidence >= bigsale.answer_threshold(reception.settings, now,
                                                                                     answer.threshold)
        conv.intent = answer.intent if sure and answer else None
        handover.group = handover.group or (answer.group if sure and answer else None)
        handover.detail.update(votes=[v.reason for v in votes], confidence=answer.confidence if answer else None)
    conv.last_question = normalize(turn.text) or None
    if handover is not None and modes.penalty_active(reception, now) and handover.reason not in PENALTY_HANDOVERS:
        handover = None  # robot reception: the bot keeps the buyer unless they ask or it cannot answer
    if handover is not None:
        tx.add_event(Event.of(ev.HandoverRequested(**{**handover.detail, "reason": handover.reason,
                                                      "intent": conv.intent}), now, conv))
        turn.order_state = await first_result(reception.hook.buyer_order_state, customer_id=conv.customer_id,
                                              channel=conv.channel, reception=reception)
    turn.answer, turn.handover = answer, handover


def _rating(turn: Turn, closed: Conversation | None) -> Outcome | None:
    """A rating of the buyer's last, closed conversation: recorded there, thanked; None when the text is not one."""
    thanks = satisfaction.capture(turn.tx, closed, turn.text, turn.now,
                                  turn.reception.settings.routing.rating_window_minutes)
    if closed is None or thanks is None:
        return None
    turn.tx.add_message(Message(conversation_id=closed.id, sender="buyer", text=turn.text, created_at=turn.now,
                                message_id=turn.inbound.message_id, lang=closed.lang))
    turn.tx.add_message(Message(conversation_id=closed.id, sender="system", text=thanks[0].text,
                                created_at=turn.now, lang=closed.lang, kind="rating_thanks"))
    turn.replies = thanks
    return turn.outcome(closed, status="bot")


def _record(turn: Turn, latest: Conversation | None) -> Message:
    """The buyer's message stored in their conversation (a new one when they have none open)."""
    inbound, now, tx = turn.inbound, turn.now, turn.tx
    conv = latest
    if conv is None or conv.status == "closed":
        conv = Conversation(id=turn.reception.new_id(), channel=inbound.channel, customer_id=inbound.customer_id,
                            entry=inbound.entry, created_at=now, updated_at=now,
                            lang=language(turn.text) if turn.text else inbound.lang or "zh")
        seen = inbound.context.model_dump(exclude_none=True) if inbound.context else {}
        if inbound.customer_name and "name" not in seen:
            seen["name"] = inbound.customer_name
        tx.add_event(Event.of(ev.ConversationStarted(channel=conv.channel, entry=conv.entry,
                                                     **{("buyer_name" if k == "name" else k): v
                                                        for k, v in seen.items()}), now, conv))
    if turn.text:
        conv.lang = language(turn.text, conv.lang)
    message = Message(conversation_id=conv.id, sender="buyer", text=turn.text, created_at=now, card=inbound.card,
                      image=inbound.image, message_id=inbound.message_id, lang=conv.lang)
    tx.add_message(message)
    tx.add_event(Event.of(ev.MessageReceived(
        message_id=inbound.message_id, chars=len(turn.text), lang=message.lang,
        card=inbound.card.model_dump() if inbound.card else None,
        sent_at=inbound.sent_at.isoformat() if inbound.sent_at else None, status=conv.status,
        image=inbound.image.id if inbound.image else None), now, conv))
    router = turn.reception.router
    turn.new = conv.status == "bot" and conv.created_at == now and conv.id not in router.active
    turn.conv = router.current(conv)  # held by a human, the queue or the pool: the router's copy is fresh
    return message


async def _route(turn: Turn) -> None:
    """The routing decision (under `Router.change`): a held buyer wrote, a handover, or the bot takes over."""
    reception, router, tx, now, handover = turn.reception, turn.reception.router, turn.tx, turn.now, turn.handover
    conv = turn.conv = router.current(turn.conv)  # another instance may have taken the buyer (a pool run)
    if conv.id in router.active:
        if handover is not None and handover.reason == "requested":
            conv.asked_human_at = conv.asked_human_at or now
        if handover is not None and conv.status in ("queued", "offline"):
            waiting_for_human(conv, handover, now)
        turn.replies += await router.buyer_wrote(tx, conv, now)
        if not turn.replies and conv.status == "offline" and handover is not None and handover.reason in ASKED:
            turn.replies += router.still_kept(tx, conv, now)  # asked again: still kept, and until when
    elif handover is not None:
        if handover.reason == "image":  # the bot cannot see a photo: it says so, and that a person will look
            turn.replies += router.say(tx, conv, texts.handover_notice("image", conv.lang), now, live=True,
                                       kind="handover")
        turn.replies += await router.hand_over(tx, conv, handover, now, turn.order_state,
                                               modes.penalty_active(reception, now))
    elif turn.new and router.book.agents and reception.settings.offline_pool.scope == "all":
        # nobody to hand over to, and the pool keeps every buyer: the bot says so once, the pool keeps them;
        # with scope "requested" a buyer the bot answered keeps the bot's answer alone
        reason = coverage.takeover_reason(reception, conv, now) or router.capacity_reason(conv)
        if reason is not None:
            turn.replies += router.park(tx, conv, now, live=True, reason=reason)
    tx.save_conversation(conv)


def waiting_for_human(conv: Conversation, handover: Handover, now: datetime) -> None:
    """A queued or pooled buyer's new reason: asking for a person (or getting upset) is what gets recorded,
    over the bot's own doubts; any reason fills an empty one (a buyer the pool kept without asking)."""
    if handover.reason in ASKED:
        conv.asked_human_at = conv.asked_human_at or now
    if conv.handover_reason is None or (handover.reason in ASKED and conv.handover_reason not in ASKED):
        conv.handover_reason = handover.reason


async def _handle(turn: Turn) -> Outcome:
    reception = turn.reception
    latest = reception.router.held_for(turn.inbound.channel, turn.inbound.customer_id) or \
        await reception.store.latest_conversation(turn.inbound.channel, turn.inbound.customer_id)
    if latest is None or latest.status == "closed":
        if (outcome := _rating(turn, latest)) is not None:
            await reception.commit(turn.tx)  # the rating belongs to the closed conversation: no routing
            return outcome
    message = _record(turn, latest)
    if turn.conv.status in ("bot", "offline"):  # the bot answers unless a human or the queue holds the buyer
        turn.conv.last_buyer_at = turn.conv.updated_at = turn.now
        await _bot_turn(turn, message)
    async with reception.router.change(turn.tx):
        await _route(turn)
        return turn.outcome(turn.conv)


async def receive(reception: Reception, inbound: Inbound) -> Outcome:
    """Handle one buyer message from any channel and say what happened, once everything it wrote is durable."""
    key = f"{inbound.channel}:{inbound.message_id}" if inbound.message_id else None
    async with reception.lock(f"{inbound.channel}\x00{inbound.customer_id}"):
        if key and (prior := await _replay(reception, key, inbound)) is not None:
            return prior
        turn = Turn(reception, inbound, key, reception.clock.now(), reception.store.transaction(), inbound.text or "")
        try:
            return await _handle(turn)
        except DuplicateMessage:  # the same message_id from another buyer, stored meanwhile
            if key and await _replay(reception, key, inbound) is not None:
                raise MessageConflict(f"message_id {inbound.message_id!r} was already used by another customer") \
                    from None
            raise
