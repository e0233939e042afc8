"""What every order skill shares: the turn, the flow state, leaving, asking again, choosing an order.

A skill is a `Skill` subclass; its module is a plugin that registers an
instance through the ``register_skills`` hook (``register(SKILL)``), and this
module, a default plugin, answers for all of them (`bot_answer`, ``tryfirst``:
before the FAQ bot). For each buyer message a skill

- continues the skill's own flow, if the conversation is in one: the state
  is what the skill returned as ``BotAnswer.skill_state`` last turn, kept in
  the store by the pipeline (so it survives a restart) and forgotten after
  `FLOW_TIMEOUT` of silence;
- stays quiet (None) while another skill's flow is active;
- otherwise starts when the message is for it (`Skill.wants`) and no loaded
  skill of higher `priority` wants it too, and returns None when the buyer
  has no order at all, so that the FAQ answers.

In a flow, every skill behaves the same: 取消 / 算了 / 不用了 / cancel /
never mind leave it with a short acknowledgement; asking for a human (or
sounding upset) ends it and lets the handover votes act; a reply the skill
cannot read is asked again once, then the buyer is handed over
(``skill_unclear``), unless it starts another skill. Answers are always
sure (``confidence=1.0``) with ``intent`` the skill's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..core import Reception
from ..faq.text import normalize
from ..hookspecs import hookimpl
from ..models import BotAnswer, Conversation, Message
from ..orders import Order, find_order
from ..state import StateKey
from . import choose
from .texts import say
from .words import flow_language, is_leave, wants_human

FLOW_TIMEOUT = timedelta(minutes=30)  # a flow left this long is forgotten; the next message starts afresh


@dataclass
class Turn:
    """One buyer message as a skill sees it."""

    message: Message
    conversation: Conversation
    reception: Reception
    lang: str
    state: dict[str, Any] | None = None  # the skill's flow state, None when starting
    text: str = field(init=False)
    norm: str = field(init=False)

    def __post_init__(self) -> None:
        self.text = (self.message.text or "").strip()
        self.norm = normalize(self.text)

    @property
    def customer_id(self) -> str:
        return self.conversation.customer_id

    async def order(self, order_id: str) -> Order | None:
        return await find_order(self.reception, self.customer_id, order_id)


FLOW_CACHE: StateKey[tuple[Message, tuple[str, dict[str, Any]] | None]] = StateKey("skills_flow")


def active_skills(reception: Reception) -> list["Skill"]:
    """The registered skills, by priority."""
    return reception.skills


async def current_flow(message: Message, conversation: Conversation,
                       reception: Reception) -> tuple[str, dict[str, Any]] | None:
    """(skill, state) of the conversation's live flow: stored, not timed out, its skill loaded."""
    # every skill asks for the same message: read the store once (kept on the hub, keyed by the message)
    last = reception.state.get(FLOW_CACHE)
    if last is not None and last[0] is message:
        return last[1]
    flow = await reception.store.skill_state(conversation.id)
    if flow is not None:
        name, state = flow
        at = datetime.fromisoformat(state["at"]) if "at" in state else None
        loaded = {s.name for s in active_skills(reception)}
        if at is None or message.created_at - at > FLOW_TIMEOUT or name not in loaded:
            flow = None
    reception.state[FLOW_CACHE] = (message, flow)
    return flow


class Skill:
    """A skill about one of the buyer's orders; subclasses set the class attributes and the steps."""

    name = ""
    priority = 100  # lower first when several skills want the same message
    triggers: re.Pattern[str] = re.compile(r"(?!)")  # on normalised text: the message is for this skill …
    excludes: re.Pattern[str] = re.compile(r"(?!)")  # … unless it is about something near it (returns, stuck …)
    what = ""  # text key naming what can no longer be changed once shipped

    def wants(self, turn: Turn) -> bool:
        return (bool(turn.norm) and self.triggers.search(turn.norm) is not None
                and self.excludes.search(turn.norm) is None)

    # -- answers ------------------------------------------------------------------------------------
    def reply(self, turn: Turn, text: str, state: dict[str, Any] | None = None,
              handover: str | None = None) -> BotAnswer:
        """An answer; `state` continues the flow (None ends it), `handover` passes the buyer on after it."""
        if state is not None:
            state = {**state, "lang": turn.lang, "at": turn.message.created_at.isoformat()}
        in_flow = state is not None or turn.state is not None
        return BotAnswer(text=text, intent=self.name, confidence=1.0, handover=handover is not None,
                         handover_reason=handover, skill=self.name if in_flow else None, skill_state=state)

    def refuse_shipped(self, turn: Turn, order: Order) -> BotAnswer:
        return self.reply(turn, say("shipped", turn.lang, order_id=order.order_id, what=say(self.what, turn.lang),
                                    status=choose.status_of(order, turn.lang)), handover="order_shipped")

    def ask_choice(self, turn: Turn, orders: list[Order]) -> BotAnswer:
        """Ask which order; what the first message already said (`carry`) is kept for after the choice."""
        text = say("which_order", turn.lang, count=len(orders), choices=choose.choices_text(orders, turn.lang))
        return self.reply(turn, text, {"step": "choose", "ids": [o.order_id for o in orders], "tries": 0,
                                       **self.carry(turn)})

    def unclear(self, turn: Turn, state: dict[str, Any], question: str) -> BotAnswer:
        """Ask once more; the second time, hand over."""
        if state.get("tries", 0) >= 1:
            return self.reply(turn, say("unclear", turn.lang), handover="skill_unclear")
        return self.reply(turn, say("again", turn.lang) + question, {**state, "tries": state.get("tries", 0) + 1})

    # -- the turn -----------------------------------------------------------------------------------
    async def handle(self, message: Message, conversation: Conversation, reception: Reception) -> BotAnswer | None:
        flow = await current_flow(message, conversation, reception)
        if flow is not None:
            if flow[0] != self.name:
                return None
            turn = Turn(message, conversation, reception, flow_language(message.text, flow[1], conversation.lang),
                        state=flow[1])
            if is_leave(turn.norm):
                return self.reply(turn, say("left", turn.lang))
            if turn.text and wants_human(turn.text):
                return self.reply(turn, say("to_human", turn.lang))  # the votes hand over; the flow ends
            return await self.resume(turn, flow[1])
        turn = Turn(message, conversation, reception, conversation.lang)
        if not self.wants(turn) or next(s for s in active_skills(reception) if s.wants(turn)) is not self:
            return None
        return await self.start(turn)

    async def start(self, turn: Turn) -> BotAnswer | None:
        """The message is for this skill: find the order, or ask which one."""
        found = await choose.locate(turn.reception, turn.message, turn.customer_id, self.order_text(turn))
        if found is None:
            return None
        if isinstance(found, choose.NotFound):
            return self.reply(turn, say("not_found", turn.lang, order_id=found.order_id))
        if isinstance(found, list):
            return self.ask_choice(turn, found)
        return await self.with_order(turn, found)

    async def resume(self, turn: Turn, state: dict[str, Any]) -> BotAnswer:
        """A reply inside this skill's flow."""
        if state.get("step") == "choose":
            choices = [o for i in state.get("ids", []) if (o := await turn.order(i)) is not None]
            card = turn.message.card.id if turn.message.card and turn.message.card.type == "order" else ""
            order = choose.pick(f"{turn.text} {card}", turn.norm, choices)
            if order is not None:
                return await self.with_order(turn, order)
            question = say("which_order", turn.lang, count=len(choices),
                           choices=choose.choices_text(choices, turn.lang))
            return await self.switch(turn) or self.unclear(turn, state, question)
        order = await turn.order(state.get("order", ""))
        if order is None:
            return self.reply(turn, say("expired", turn.lang, order_id=state.get("order", "")),
                              handover="order_changed")
        answer = await self.step(turn, order, state)
        if answer is not None:
            return answer
        return await self.switch(turn) or self.unclear(turn, state, self.question(turn, order, state))

    async def switch(self, turn: Turn) -> BotAnswer | None:
        """The reply starts another skill ("我的快递到哪了" while changing an address): end this flow, start that."""
        fresh = Turn(turn.message, turn.conversation, turn.reception, turn.lang)
        for other in active_skills(turn.reception):
            if other is not self and other.wants(fresh):
                answer = await other.start(fresh)
                if answer is not None:
                    return answer if answer.skill else answer.model_copy(update={"skill": self.name})
        return None

    # -- for subclasses -----------------------------------------------------------------------------
    def carry(self, turn: Turn) -> dict[str, Any]:
        """What the first message already says (a new address …), kept while the buyer picks an order."""
        return {}

    def order_text(self, turn: Turn) -> str:
        """The part of the first message that may name an order (the address skill leaves the address out)."""
        return turn.text

    async def with_order(self, turn: Turn, order: Order) -> BotAnswer:
        raise NotImplementedError

    async def step(self, turn: Turn, order: Order, state: dict[str, Any]) -> BotAnswer | None:
        """Handle a reply at ``state["step"]``; None when it can't be read."""
        raise NotImplementedError

    def question(self, turn: Turn, order: Order, state: dict[str, Any]) -> str:
        """The question of ``state["step"]``, asked again after an unclear reply."""
        raise NotImplementedError


@hookimpl(tryfirst=True)
async def bot_answer(message: Message, conversation: Conversation, reception: Reception) -> BotAnswer | None:
    """The skills' answer, before the FAQ bot's: the flow in progress, else the first skill the message is for."""
    for skill in active_skills(reception):
        answer = await skill.handle(message, conversation, reception)
        if answer is not None:
            return answer
    return None
