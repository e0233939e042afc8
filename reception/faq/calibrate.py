"""Per-FAQ calibration: how the matcher's confidence relates to right answers on *this* FAQ, and the
answer threshold per language that keeps the expected share of wrong answers under a limit.

The matcher's confidence is fitted on public data sets; how far it can be trusted depends on
the shop's FAQ (how many entries, how close they are, how many phrasings each has). So when
an FAQ loads it is cross-validated against itself:

* **known**: fold number f holds out phrasing number f of every entry and language (where the
  entry has two or more) and matches it against the rest of the FAQ; an answer is right when it
  names the entry it came from;
* **unknown**: the same held-out phrasing is matched once more with its own entry left out of
  the ranking (`FaqMatcher.match(exclude=...)`): a question on a topic the FAQ lacks, so any
  answer is wrong;
* **out of scope**: messages bundled with the project (``data/out_of_scope.yaml``: chat,
  weather, other trades, in both languages) matched against the whole FAQ: any answer is wrong.

The expected share of wrong answers at a threshold mixes the three kinds with the weights `MIX`
(most buyer messages are about something the FAQ covers); `PRIOR` pseudo-counts keep a small FAQ
from looking perfect. How that estimate becomes a threshold depends on how rich the FAQ is in a
language (the last two paragraphs).

**Every phrasing is held out, and every entry stands in for a missing topic.** There are as many
folds as the longest entry has phrasings in a language, as far as `FOLD_BUDGET` allows (a
10,000-phrasing FAQ gets one fold, the bundled FAQ of 2,966 phrasings four). Before, four folds held out at most four
phrasings per entry, and about 15% of the entries were removed whole in each fold, four phrasings
each, so the unknown-topic estimate of a thin FAQ rested on a dozen entries. The risk of a missing
topic is carried by a few entries (one whose near-sibling is in the FAQ: "check invoice" beside "get
invoice"), so which dozen was drawn moved the threshold by up to 0.18 between samples of the same
data set (banking77, 5 phrasings: 0.81, 0.93, 0.99). Leaving the entry out of the ranking instead
of indexing the FAQ again without it costs one more match per held-out phrasing; its words still
count in the index's statistics, which makes a missing topic look a little closer to the FAQ than it
is (a cautious error).

**Every entry weighs the same.** Within known and within unknown samples, each entry carries the same
share of the weight (a buyer's question may be about any of them), and an entry's own samples share
it out (by typicality in a rich FAQ, below). Weighing samples one by one let an entry with more
phrasings, or with one very typical phrasing, count several times over.

**Thin FAQs are held to the global calibration.** A language where the FAQ is thin (a median of
fewer than `RICH` phrasings per entry, like the public benchmarks' 5 and 10) is inside the range
the confidence was fitted on (``evaluate/fit.py``: FAQs of 5 and 10 phrasings per intent), where
an answer given at confidence c is right about c of the time. Answering only at 1 - max_wrong_share
or more then keeps every answer's chance of being wrong within the limit, whatever share of the
traffic is about topics the FAQ lacks or out of scope, which no FAQ can tell. A thin FAQ's own
cross-validation has too few held-out phrasings to show that it may go lower: on three samples of
each English development set, the thresholds it chose (0.80 to 0.99) left more than 5% of the
answers wrong on 19 of 36 FAQs, mostly because its few held-out phrasings met none of the wrong
answers that a missing near-sibling topic or a buyer's looser wording brings. So a thin FAQ's
threshold starts at that floor and its cross-validation can only raise it, and only where the need
is clear: where even the lower `LCB_Z` (95%, one-sided) Wilson bound of the wrong share is over the
limit, the sample size being the effective number (Kish) of the weighted answers. An FAQ whose
entries overlap (the same questions split over two entries) is raised; a point estimate would also
raise FAQs whose few cross-validated wrong answers are noise.

**Rich FAQs are calibrated on their own evidence.** A held-out phrasing is not a typical buyer
message: a shop writes its phrasings to differ from each other, so each one held out sits at the
edge of its entry, while buyers mostly ask near its centre. In a language where the FAQ is **rich**
(a median of `RICH` phrasings or more per entry) the entry's centre is well estimated, and the FAQ
lies outside the range the confidence was fitted on (its confidence is too low there: the bundled
FAQ's held-out buyer messages are 1-2% wrong where the confidence predicts about 8%). So each known
sample weighs its typicality (the cosine of the phrasing to the rest of its entry) to the power
`TYPICAL_POWER`, and the threshold is the lowest one whose estimate is within the limit, down to
`RICH_FLOOR`.

The same FAQ gets the same samples and thresholds in every process: the order of the held-out
phrasings comes from generators seeded with the FAQ's content, and the index sums in the FAQ's own
order (never a set's, which Python salts per process). **Each entry's phrasings are ordered by a
generator of its own**, seeded with that entry's id and phrasings: an edit to one entry (a phrasing
added from the unanswered questions, one removed) changes which of its own phrasings are held out,
and nobody else's. With one generator for the whole FAQ, seeded with all of it, any edit drew
every held-out phrasing anew: on the bundled FAQ, twelve edits that each removed one phrasing of
one entry moved the English threshold by 0.035 on average, between 0.71 and 0.83 around 0.74; with
a generator per entry, by 0.002, between 0.714 and 0.722 around 0.715 (`calibrate` of each edited FAQ).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Sequence

import yaml

from .loader import FaqEntry
from .matcher import FaqMatcher
from .sentences import rich_in
from .text import has_cjk

LANGUAGES = ("zh", "en")
MIX = {"known": 0.7, "unknown": 0.1, "oos": 0.2}  # assumed make-up of buyer traffic
PRIOR = (0.002, 0.02)  # pseudo (wrong answers, answers) added at every threshold, in units of MIX
FLOOR, CEILING = 0.8, 0.99  # the threshold never leaves this range (thin: from 1 - max_wrong_share up) …
RICH_FLOOR = 0.6  # … except down to this in a language where the FAQ is rich
TYPICAL_POWER = 4.0
LCB_Z = 1.645  # a thin FAQ's threshold is raised above its floor only where this lower bound is over the limit
FOLD_BUDGET = 12_000  # phrasings indexed over all folds together (keeps a 10,000-phrasing FAQ near 1 s)


@dataclass(frozen=True)
class Sample:
    """One cross-validated match: its kind (known, unknown, oos), language, confidence and whether it is right."""

    kind: str
    lang: str
    confidence: float
    right: bool
    entry: str = ""  # the entry the text came from (known and unknown)
    answered: str = ""  # the entry the matcher picked
    text: str = ""
    typicality: float = 1.0  # known: cosine of the phrasing to the rest of its entry


@dataclass(frozen=True)
class LanguageCalibration:
    """The chosen threshold for one language and what it is expected to give."""

    threshold: float
    answer_rate: float  # share of known questions answered (right or wrong)
    right_rate: float  # share of known questions answered right
    wrong_share: float  # expected share of answers that are wrong, traffic mixed as `MIX`
    samples: int  # known questions behind the figures
    rich: bool = False  # calibrated on its own evidence (module doc); else held to the global calibration


@dataclass(frozen=True)
class Calibration:
    """An FAQ's calibration: a threshold per language, and the samples it came from."""

    max_wrong_share: float
    languages: dict[str, LanguageCalibration]
    samples: tuple[Sample, ...]

    def threshold(self, lang: str) -> float:
        found = self.languages.get(lang) or self.languages.get("zh" if lang == "en" else "en")
        return found.threshold if found else CEILING


@cache
def out_of_scope() -> dict[str, tuple[str, ...]]:
    """The bundled out-of-scope messages per language."""
    text = resources.files("reception").joinpath("data/out_of_scope.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return {lang: tuple(raw.get(lang, ())) for lang in LANGUAGES}


def content_key(entries: Sequence[FaqEntry], max_wrong_share: float, semantic: bool = False) -> str:
    """A digest of everything an indexed FAQ depends on: the entries (the matcher hands them out, so an
    edited answer is a new FAQ), the limit, and whether sentence vectors take part."""
    digest = hashlib.sha256(f"{max_wrong_share:.6f}{semantic}".encode())
    for entry in entries:
        digest.update(entry.model_dump_json().encode())
    return digest.hexdigest()


def _lang(text: str) -> str:
    return "zh" if has_cjk(text) else "en"


def _folds(entries: Sequence[FaqEntry], by_lang: Sequence[dict[str, list[str]]]) -> int:
    """As many folds as the longest entry has phrasings in a language, within `FOLD_BUDGET`."""
    phrasings = sum(len(e.questions) for e in entries)
    longest = max((len(qs) for lang_qs in by_lang for qs in lang_qs.values()), default=1)
    return max(1, min(longest, FOLD_BUDGET // max(1, phrasings)))


def _entry_rng(entry: FaqEntry) -> random.Random:
    """The generator that orders `entry`'s phrasings for the folds, seeded by the entry alone (module doc)."""
    digest = hashlib.sha256(entry.id.encode())
    for question in entry.questions:
        digest.update(b"\0" + question.encode())
    return random.Random(digest.hexdigest())


def cross_validate(entries: Sequence[FaqEntry], matcher: FaqMatcher) -> list[Sample]:
    """Matched samples of the three kinds (module doc), deterministic for the same FAQ."""
    samples: list[Sample] = []
    by_lang = [{lang: [q for q in dict.fromkeys(e.questions) if _lang(q) == lang] for lang in LANGUAGES}
               for e in entries]
    for entry, lang_qs in zip(entries, by_lang):
        rng = _entry_rng(entry)
        for qs in lang_qs.values():
            rng.shuffle(qs)
    for fold in range(_folds(entries, by_lang)):
        held: list[tuple[str, int, bool]] = []  # (text, entry index, also a known sample)
        kept: list[FaqEntry] = []
        for i, entry in enumerate(entries):
            out = set()
            for qs in by_lang[i].values():
                if len(qs) >= 2 and fold < len(qs):
                    out.add(qs[fold])
                    held.append((qs[fold], i, True))
                elif len(qs) == 1 and fold == 0:  # a lone phrasing still stands in for a missing topic
                    held.append((qs[0], i, False))
            kept.append(entry.model_copy(update={"questions": [q for q in entry.questions if q not in out]}))
        if not held:
            break
        fold_matcher = FaqMatcher(kept, matcher.encoder, matcher.phrasing_vectors)
        for text, i, known in held:
            lang = _lang(text)
            if known:
                match = fold_matcher.match(text)
                picked = match.entry.id if match else ""
                samples.append(Sample("known", lang, match.confidence if match else 0.0, picked == entries[i].id,
                                      entries[i].id, picked, text, fold_matcher.typicality(text, i)))
            if len(entries) >= 2:
                match = fold_matcher.match(text, exclude=i)
                samples.append(Sample("unknown", lang, match.confidence if match else 0.0, False, entries[i].id,
                                      match.entry.id if match else "", text))
    for lang, texts in out_of_scope().items():
        for text in texts:
            match = matcher.match(text)
            samples.append(Sample("oos", lang, match.confidence if match else 0.0, False, "",
                                  match.entry.id if match else "", text))
    return samples


def _wilson_lower(p: float, n: float, z: float) -> float:
    """The lower Wilson score bound of a share `p` observed over `n` (effective) trials."""
    if n <= 0:
        return 0.0
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(max(0.0, p * (1 - p) / n + z * z / (4 * n * n)))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def thin_floor(max_wrong_share: float) -> float:
    """The lowest threshold of a language where the FAQ is thin: 1 - max_wrong_share (module doc)."""
    return min(CEILING, max(FLOOR, 1.0 - max_wrong_share))


def _choose(samples: Sequence[Sample], max_wrong_share: float, rich: bool) -> LanguageCalibration | None:
    """The lowest threshold (from the floor up) whose answers' wrong share passes the language's rule (module doc)."""
    kinds = {kind: [s for s in samples if s.kind == kind] for kind in MIX}
    if not kinds["known"]:
        return None
    power = TYPICAL_POWER if rich else 0.0
    floor = RICH_FLOOR if rich else thin_floor(max_wrong_share)

    def raw(s: Sample) -> float:
        return max(s.typicality, 1e-6) ** power if s.kind == "known" else 1.0

    # Each kind weighs its share of `MIX`; within known and unknown, every entry weighs the same (a
    # buyer's topic is any of them) and its own samples share that by `raw` (typicality, when rich).
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for s in samples:
        if s.kind in kinds:
            totals[s.kind, s.entry] += raw(s)
    groups = Counter(kind for kind, _ in totals)
    weight = {id(s): MIX[s.kind] * raw(s) / totals[s.kind, s.entry] / groups[s.kind]
              for s in samples if s.kind in kinds and totals[s.kind, s.entry] > 0}
    kinds = {kind: [s for s in group if id(s) in weight] for kind, group in kinds.items()}

    def passes(answers: float, wrong: float, squares: float) -> bool:
        if rich:
            return (wrong + PRIOR[0]) / (answers + PRIOR[1]) <= max_wrong_share
        effective = answers * answers / squares if squares else 0.0
        return _wilson_lower(wrong / answers if answers else 0.0, effective, LCB_Z) <= max_wrong_share

    # Walk the samples from the most confident down, accumulating weighted answers and wrong answers.
    ordered = sorted((s for s in samples if id(s) in weight), key=lambda s: -s.confidence)
    answers = wrong = squares = 0.0
    threshold = CEILING
    for i, s in enumerate(ordered):
        if s.confidence < floor:
            break
        w = weight[id(s)]
        answers += w
        squares += w * w
        wrong += 0.0 if s.right else w
        if i + 1 < len(ordered) and ordered[i + 1].confidence == s.confidence:
            continue  # a threshold cannot split equal confidences
        if passes(answers, wrong, squares):
            threshold = min(CEILING, s.confidence)
    if not rich and threshold > floor and passes(answers, wrong, squares):
        threshold = floor  # a thin FAQ that passes at its floor answers from 1 - max_wrong_share on
    known = kinds["known"]
    answered = [s for s in known if s.confidence >= threshold]
    mixed_answers = sum(weight[id(s)] for s in ordered if s.confidence >= threshold)
    mixed_wrong = sum(weight[id(s)] for s in ordered if s.confidence >= threshold and not s.right)
    return LanguageCalibration(
        threshold=round(threshold, 4),
        answer_rate=len(answered) / len(known),
        right_rate=sum(s.right for s in answered) / len(known),
        wrong_share=mixed_wrong / mixed_answers if mixed_answers else 0.0,
        samples=len(known),
        rich=rich,
    )


def calibrate(entries: Sequence[FaqEntry], matcher: FaqMatcher, max_wrong_share: float) -> Calibration:
    """Cross-validate `entries` (module doc) and choose a threshold per language."""
    samples = cross_validate(entries, matcher)
    languages = {}
    for lang in LANGUAGES:
        chosen = _choose([s for s in samples if s.lang == lang], max_wrong_share, rich_in(entries, lang))
        if chosen is not None:
            languages[lang] = chosen
    return Calibration(max_wrong_share, languages, tuple(samples))
