"""The protocol: the bot under test (`Responder`), the FAQ and messages of one run (`Split`) and its
outcome counts (`Tally`)."""

from __future__ import annotations

import hashlib
import inspect
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Protocol, Sequence

from ...human_request import is_human_request
from ..library import build
from ..loader import FaqEntry
from ..semantic import Encoder
from ..text import language
from .datasets import HUMAN, OOS, Corpus, _rng

MAX_WRONG_SHARE = 0.05
SEMANTIC_MAX_WRONG_SHARE = 0.10  # the bot with sentence vectors (issue target)
TARGET_REQUESTED = 0.95


class Responder(Protocol):
    """What the benchmark talks to: one message of a fresh conversation in, one outcome out."""

    async def respond(self, text: str) -> tuple[str, str]:
        """``("answer", entry_id)`` or ``("handover", reason)``."""
        ...


# Builds the bot under test for one benchmark FAQ; may be async. A responder with an async
# ``aclose()`` is closed after its split.
ResponderFactory = Callable[[Sequence[FaqEntry]], "Responder | Awaitable[Responder]"]


class DirectResponder:
    """The bot without the pipeline: human request first, then the matcher against a threshold
    (the FAQ's calibrated one unless `threshold` is given)."""

    def __init__(self, entries: Sequence[FaqEntry], threshold: float | None = None,
                 max_wrong_share: float = 0.05, encoder: Encoder | None = None) -> None:
        self.faq = build(entries, {}, max_wrong_share, encoder)
        self.threshold = threshold
        self.thresholds = {lang: threshold if threshold is not None else c.threshold
                           for lang, c in self.faq.calibration.languages.items()}

    async def respond(self, text: str) -> tuple[str, str]:
        if is_human_request(text):
            return "handover", "requested"
        match = self.faq.matcher.match(text)
        threshold = self.threshold if self.threshold is not None else self.faq.calibration.threshold(language(text))
        if match is None or match.confidence < threshold:
            return "handover", "low_confidence"
        return "answer", match.entry.id


@dataclass
class Split:
    """One benchmark run: the FAQ built for k and the messages with their expected label."""

    corpus: Corpus
    k: int
    faq: list[FaqEntry]
    messages: list[tuple[str, str]]  # (text, label); label not an FAQ id means "must hand over"


def make_splits(corpus: Corpus, seed: int, max_messages: int, leave_out: float = 0.2) -> list[Split]:
    """The FAQ for each k and the shared message sample (same left-out intents and messages for every k)."""
    rng = _rng(seed, corpus.name + ":protocol")
    intents = sorted(corpus.train)
    left_out = set(rng.sample(intents, round(leave_out * len(intents)))) if corpus.ks != (1,) else set()
    ids = {intent: _stable_id(intent) for intent in intents}
    messages = [(text, ids.get(label, label) if label not in left_out else OOS) for text, label in corpus.test]
    rng.shuffle(messages)
    messages = messages[:max_messages]
    splits = []
    for k in corpus.ks:
        faq = [FaqEntry(id=ids[i], questions=corpus.train[i][:k], answer=i) for i in intents if i not in left_out]
        splits.append(Split(corpus, k, faq, messages))
    return splits


def _stable_id(intent: str) -> str:
    """A valid entry id for any intent name (CSDS topics are Chinese)."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", intent)[:40] + "-" + hashlib.sha1(intent.encode()).hexdigest()[:8]


@dataclass
class Tally:
    """Outcome counts of one system on one split."""

    n: int = 0
    right: int = 0
    wrong: int = 0
    handover: int = 0
    reasons: Counter = field(default_factory=Counter)
    human: int = 0
    requested: int = 0
    seconds: float = 0.0
    threshold: float | None = None  # a baseline's oracle threshold
    calibrated: dict[str, float] = field(default_factory=dict)  # the bot's threshold per language

    def add(self, label: str, outcome: tuple[str, str], faq_ids: set[str]) -> None:
        self.n += 1
        kind, value = outcome
        if label == HUMAN:
            self.human += 1
            self.requested += outcome == ("handover", "requested")
        if kind == "answer":
            if value == label and label in faq_ids:
                self.right += 1
            else:
                self.wrong += 1
        else:
            self.handover += 1
            self.reasons[value] += 1

    @property
    def wrong_share(self) -> float:
        return self.wrong / max(1, self.right + self.wrong)

    @property
    def requested_recall(self) -> float | None:
        return self.requested / self.human if self.human else None


async def run_responder(factory: ResponderFactory, split: Split) -> Tally:
    """Send every message of the split to a fresh responder built for its FAQ; time only `respond`."""
    responder = factory(split.faq)
    if inspect.isawaitable(responder):
        responder = await responder
    faq_ids = {e.id for e in split.faq}
    tally = Tally(calibrated=dict(getattr(responder, "thresholds", {})))
    try:
        for text, label in split.messages:
            start = time.perf_counter()
            outcome = await responder.respond(text)
            tally.seconds += time.perf_counter() - start
            tally.add(label, outcome, faq_ids)
    finally:
        if hasattr(responder, "aclose"):
            await responder.aclose()
    return tally
