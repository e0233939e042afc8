"""The default handover vote: when the bot must pass the buyer to a human, and why.

Reasons, first match wins:
``requested`` (the buyer asks for a human, in Chinese or English),
``angry`` (the buyer is upset: complaints, bad-review threats, insults; they get a human first in the
queue, as does an upset buyer who asks for one),
``card`` (a product or order card with no question the bot can read),
``image`` (a photo: the bot cannot see it, so a person looks at it, whatever text comes with it),
``repeated`` (the buyer asks the same thing again after the bot answered),
``faq_entry`` (the matched FAQ entry is marked ``handover: true``; its answer is sent too),
``low_confidence`` (the bot is not sure enough to answer).
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from . import bigsale
from .core import Reception
from .faq.text import normalize
from .hookspecs import hookimpl
from .human_request import human_request_kind
from .models import BotAnswer, Conversation, Handover, Message

# Words of an upset buyer, both languages; matched on normalised text.
_ANGRY = re.compile(
    r"投诉|差评|举报|骗子|骗人|垃圾|太差|什么破|气死|坑人|黑店|12315|工商|消协|退一赔三|"
    r"\b(complain|complaint|scam|scammers?|fraud|rip ?off|ripped off|terrible|awful|worst|ridiculous|"
    r"unacceptable|furious|angry|lawyer|sue|report you|bad review|disgusting|useless)\b"
)


def is_angry(text: str, extra_words: tuple[str, ...] = ()) -> bool:
    """True when the buyer sounds upset enough to need a person now (the lexicon plus the shop's own words)."""
    value = normalize(text)
    return _ANGRY.search(value) is not None or any(normalize(word) in value for word in extra_words if word)


def _repeats_last_question(message: Message, conversation: Conversation, reception: Reception) -> bool:
    text, previous = normalize(message.text), conversation.last_question
    if not text or not previous:
        return False
    return fuzz.ratio(text, previous) >= reception.settings.bot.repeat_similarity


@hookimpl(trylast=True)
async def handover_vote(
    message: Message, conversation: Conversation, answer: BotAnswer | None, reception: Reception
) -> Handover | None:
    kind = human_request_kind(message.text) if message.text else None
    words = tuple(reception.settings.sentiment.angry_words)
    upset = kind == "escalation" or (bool(message.text) and is_angry(message.text, words))
    if kind is not None:  # asks for a person, challenges the bot, or escalates
        return Handover(reason="requested", detail={"priority": upset})
    if upset:
        return Handover(reason="angry", detail={"priority": True})
    if message.image is not None:  # a broken item, a wrong size: only a person can look at the photo
        return Handover(reason="image")
    in_flow = answer is not None and answer.skill is not None  # a skill's dialogue repeats "yes" legitimately
    if not message.text:  # a card alone: a skill may use it (an order card), otherwise a person reads it
        return Handover(reason="card") if message.card and answer is None else None
    if not in_flow and _repeats_last_question(message, conversation, reception):
        return Handover(reason="repeated", detail={"intent": answer.intent if answer else None})
    if answer is None or answer.confidence < bigsale.answer_threshold(reception.settings, message.created_at,
                                                                      answer.threshold):
        return Handover(reason="low_confidence")
    if answer.handover:
        return Handover(reason=answer.handover_reason or "faq_entry", group=answer.group, keep_answer=True)
    return None
