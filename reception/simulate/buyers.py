"""The simulated buyers: when they write, what they ask, and the random draws of their conversation.

Everything is drawn from the scenario's seed, and each buyer's human phase
has its own random stream (seed, buyer), so replaying the same buyers with
other staffing draws the same turns, delays and ratings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterable

from ..faq.loader import FaqEntry
from ..faq.text import language
from .scenario import Scenario

# What buyers type, by language. Questions the FAQ covers come from the shop's own FAQ.
HUMAN_REQUESTS = {
    "zh": ["转人工", "人工客服", "我要找人工客服", "帮我转人工吧", "找个真人聊一下", "在吗？我要人工服务"],
    "en": ["I want to talk to a real person", "human agent please", "can I speak to a person",
           "connect me to a customer service agent"],
}
OTHER_QUESTIONS = {  # questions a shop's FAQ rarely covers: the bot should hand them over
    "zh": ["这款和去年那款比做工有什么不同", "我上个月买的那件洗了两次就起球了，怎么处理",
           "你们能做企业团购定制logo吗", "收到的颜色和图片差别很大，我很失望", "我想批量采购两百件，能给个报价吗",
           "赠品没收到，订单里也没写，怎么回事"],
    "en": ["how does this one compare with last year's model in build quality",
           "the sweater I bought last month pills after two washes, what now",
           "do you do corporate orders with a custom logo", "I want to buy 200 pieces, can you quote me",
           "the colour I got looks nothing like the photo, I'm disappointed"],
}
FOLLOW_UPS = {
    "zh": ["好的，那大概什么时候能处理好？", "嗯嗯，还需要我提供什么吗", "那我等您消息", "还有别的办法吗",
           "好的，订单号刚才发您了"],
    "en": ["ok, when will it be sorted?", "do you need anything else from me", "alright, I'll wait for you",
           "is there any other option", "I just sent you the order number"],
}
NUDGES = {"zh": "还在吗？怎么没人回复", "en": "hello? is anyone there?"}
RATINGS = {"zh": ("满意", "不满意"), "en": ("satisfied", "dissatisfied")}
AGENT_REPLIES = {
    "zh": ["您好，这边帮您查一下，请稍等。", "好的，已经为您登记了，处理好会第一时间通知您。",
           "明白了，这个问题我来帮您跟进。"],
    "en": ["Hello, let me check that for you.", "Noted, I have logged it and will let you know once it is done.",
           "I see, I will follow this up for you."],
}


@dataclass
class Buyer:
    """One buyer of the day: arrival (seconds after local midnight), kind, language and first message."""

    index: int
    at: float
    kind: str  # routine | human | other
    lang: str
    text: str
    seed: int
    asked_at: float | None = None  # when they asked for a person (set by the run)
    answered_at: float | None = None  # when a person first answered them (set by the run)

    @property
    def customer_id(self) -> str:
        return f"sim-{self.index:06d}"

    def stream(self) -> random.Random:
        """The random stream of this buyer's human phase (the same in every replay)."""
        return random.Random(self.seed * 1_000_003 + self.index)


def _phrasings(entries: Iterable[FaqEntry]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"zh": [], "en": []}
    for entry in entries:
        for question in entry.questions:
            out[language(question)].append(question)
    return out


def day_of_buyers(scenario: Scenario, faq: list[FaqEntry]) -> list[Buyer]:
    """Every buyer of the scenario's day, in arrival order."""
    rng = random.Random(scenario.seed)
    cfg = scenario.buyers
    routine = _phrasings(faq)
    other = {"zh": [q for q in cfg.other_questions if language(q) == "zh"] or OTHER_QUESTIONS["zh"],
             "en": [q for q in cfg.other_questions if language(q) == "en"] or OTHER_QUESTIONS["en"]}
    times = sorted(hour * 3600 + rng.random() * 3600 for hour, count in enumerate(scenario.hourly())
                   for _ in range(count))
    buyers = []
    for index, at in enumerate(times):
        lang = "zh" if rng.random() < cfg.zh_share else "en"
        roll = rng.random()
        if roll < cfg.routine_share and routine[lang]:
            kind, text = "routine", rng.choice(routine[lang])
        elif roll < cfg.routine_share + cfg.human_share:
            kind, text = "human", rng.choice(HUMAN_REQUESTS[lang])
        else:
            kind, text = "other", rng.choice(other[lang])
        buyers.append(Buyer(index=index, at=at, kind=kind, lang=lang, text=text, seed=scenario.seed))
    return buyers
