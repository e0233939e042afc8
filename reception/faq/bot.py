"""The FAQ bot, a default plugin: loads the FAQ at start and proposes the best entry's answer.

It always proposes its best match with a confidence; whether the answer is
sent is decided by the handover votes against ``bot.answer_threshold``.
Matches are remembered per normalised text (an LRU of `CACHE_SIZE`): buyers
send the same questions over and over, many of them by tapping the
platform's suggested-question buttons.
"""

from __future__ import annotations

from collections import OrderedDict

from .. import bigsale
from ..core import Reception
from ..hookspecs import hookimpl
from ..models import BotAnswer, Conversation, Message
from .loader import FaqEntry, load_dir
from .matcher import FaqMatcher, Match
from .text import normalize

STATE_KEY = "faq"
SALE_KEY = "faq_big_sale"
CACHE_SIZE = 4096


class CachedMatcher:
    """A `FaqMatcher` that remembers its latest answers by normalised text."""

    def __init__(self, matcher: FaqMatcher) -> None:
        self.matcher = matcher
        self._cache: OrderedDict[str, Match | None] = OrderedDict()

    def match(self, text: str) -> Match | None:
        key = normalize(text)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        result = self.matcher.match(text)
        self._cache[key] = result
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return result


def matcher(reception: Reception) -> CachedMatcher:
    """The FAQ matcher in force now: with the sale's extra entries while big-sale mode is on."""
    if SALE_KEY in reception.state and bigsale.active(reception.settings, reception.clock.now()):
        return reception.state[SALE_KEY]
    return reception.state[STATE_KEY]


def _with_sale(entries: list[FaqEntry], sale: list[FaqEntry]) -> list[FaqEntry]:
    """The everyday FAQ with the sale's entries added; a sale entry replaces an everyday one of the same id."""
    replaced = {e.id for e in sale}
    return [e for e in entries if e.id not in replaced] + sale


@hookimpl(trylast=True)
def startup(reception: Reception) -> None:
    entries = load_dir(*reception.settings.faq)
    reception.state[STATE_KEY] = CachedMatcher(FaqMatcher(entries))
    if reception.settings.big_sale.faq:  # loaded at start, so a bad sale file stops the start too
        sale = load_dir(*reception.settings.big_sale.faq)
        reception.state[SALE_KEY] = CachedMatcher(FaqMatcher(_with_sale(entries, sale)))


@hookimpl(trylast=True)
def bot_answer(message: Message, conversation: Conversation, reception: Reception) -> BotAnswer | None:
    if not message.text:
        return None
    match = matcher(reception).match(message.text)
    if match is None:
        return None
    return BotAnswer(
        text=match.entry.answer_in(message.lang or "zh"),
        intent=match.entry.id,
        confidence=round(float(match.confidence), 4),
        handover=match.entry.handover,
        group=match.entry.group,
        runner_up=match.runner_up.id if match.runner_up else None,
        runner_up_confidence=round(float(match.runner_up_confidence), 4) if match.runner_up else None,
    )
