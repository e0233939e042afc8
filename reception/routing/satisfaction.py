"""Satisfaction at close: reading the buyer's rating (满意 / 一般 / 不满意, or 1–5) from their reply."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from .. import events as ev, texts
from ..events import Event
from ..faq.text import normalize
from ..models import Conversation, Reply
from ..store import Transaction

LABELS = {5: "satisfied", 4: "satisfied", 3: "neutral", 2: "dissatisfied", 1: "dissatisfied"}
_WORDS = [  # checked in order: negations before the words they contain
    (1, r"非常不满意|很不满意|极不满意|very dissatisfied|very unsatisfied|terrible|awful"),
    (2, r"不满意|不太满意|不好|差评|dissatisfied|unsatisfied|not satisfied|bad|poor"),
    (5, r"非常满意|很满意|超级满意|太棒|very satisfied|excellent|perfect"),
    (3, r"一般|还行|凑合|neutral|ok|okay|so so|average"),
    (4, r"满意|好评|不错|satisfied|good|great"),
]
_SCORE = re.compile(r"^([1-5])\s*(分|星|stars?|points?)?$")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def parse_rating(text: str) -> int | None:
    """A score 1–5 from a short reply, or None when the reply is not a rating."""
    value = normalize(text)
    if not value or len(value) > 24:
        return None
    if match := _SCORE.match(value):
        return int(match.group(1))
    if len(value) <= 3 and value[0] in _CN_DIGITS and value[1:] in ("", "分", "星"):
        return _CN_DIGITS[value[0]]
    for score, pattern in _WORDS:
        if re.search(rf"(?<![a-z])({pattern})(?![a-z])", value):
            return score
    return None


def capture(tx: Transaction, closed: Conversation | None, text: str | None, now: datetime,
            window_minutes: float) -> list[Reply] | None:
    """If `text` rates `closed` (closed recently, rating still asked), record it and thank the buyer."""
    if closed is None or not closed.rating_pending or not text or closed.closed_at is None:
        return None
    if now - closed.closed_at > timedelta(minutes=window_minutes):
        return None
    score = parse_rating(text)
    if score is None:
        return None
    closed.rating_pending = False
    tx.save_conversation(closed)
    tx.add_event(Event.of(ev.SatisfactionRated(score=score, label=LABELS[score], agent_id=closed.agent_id), now,
                          closed))
    return [Reply(sender="system", text=texts.rating_thanks(closed.lang))]
