"""Per-FAQ calibration: how the matcher's confidence relates to right answers on *this* FAQ, and the
answer threshold per language that keeps the expected share of wrong answers under a limit.

The matcher's confidence is fitted on public data sets; how far it can be trusted depends on
the shop's FAQ (how many entries, how close they are, how many phrasings each has). So when
an FAQ loads it is cross-validated against itself:

* **known**: in each fold one phrasing per entry and language is held out and matched
  against the rest of the FAQ; an answer is right when it names the entry it came from;
* **unknown**: in each fold a share of the entries is removed whole and their phrasings are
  matched: an in-domain question the FAQ does not answer, so any answer is wrong;
* **out of scope**: messages bundled with the project (``data/out_of_scope.yaml``: chat,
  weather, other trades, in both languages) matched against the whole FAQ: any answer is wrong.

The expected share of wrong answers at a threshold mixes the three kinds with the weights
`MIX` (most buyer messages are about something the FAQ covers). The threshold chosen is the
lowest one at which the expected wrong share of the answers it gives is within ``max_wrong_share``;
`PRIOR` pseudo-counts keep a small FAQ from looking perfect.

A held-out phrasing is not a typical buyer message: a shop writes its phrasings to differ from
each other, so each one held out sits at the edge of its entry, while buyers mostly ask near its
centre. In a language where the FAQ is **rich** (a median of `RICH` phrasings or more per entry)
the entry's centre is well estimated, so each known sample weighs its typicality (the cosine of
the phrasing to the rest of its entry) to the power `TYPICAL_POWER`, and the threshold may go
down to `RICH_FLOOR`. A thin FAQ (the public benchmarks' 5-10 phrasings) gets neither: its
estimate is noisy, and buyers' messages there are no closer than its own phrasings.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Sequence

import yaml

from .loader import FaqEntry
from .matcher import FaqMatcher
from .text import has_cjk

LANGUAGES = ("zh", "en")
MIX = {"known": 0.7, "unknown": 0.1, "oos": 0.2}  # assumed make-up of buyer traffic
UNKNOWN_SHARE = 0.15  # entries removed whole in each fold
MAX_UNKNOWN_PER_ENTRY = 4  # phrasings per removed entry and language that are matched
PRIOR = (0.002, 0.02)  # pseudo (wrong answers, answers) added at every threshold, in units of MIX
FLOOR, CEILING = 0.8, 0.99  # the threshold never leaves this range …
RICH_FLOOR = 0.6  # … except down to this in a language where the FAQ is rich
RICH = 12  # median phrasings per entry in a language from which the FAQ counts as rich there
TYPICAL_POWER = 4.0
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


def _folds(entries: Sequence[FaqEntry]) -> int:
    phrasings = sum(len(e.questions) for e in entries)
    return max(1, min(4, FOLD_BUDGET // max(1, phrasings)))


def cross_validate(entries: Sequence[FaqEntry], matcher: FaqMatcher, seed: str = "") -> list[Sample]:
    """Matched samples of the three kinds (module doc), deterministic for the same FAQ."""
    rng = random.Random(seed or content_key(entries, 0.0))
    samples: list[Sample] = []
    by_lang = [{lang: [q for q in dict.fromkeys(e.questions) if _lang(q) == lang] for lang in LANGUAGES}
               for e in entries]
    for lang_qs in by_lang:
        for qs in lang_qs.values():
            rng.shuffle(qs)
    order = list(range(len(entries)))
    rng.shuffle(order)
    n_unknown = max(1, round(UNKNOWN_SHARE * len(entries))) if len(entries) >= 4 else 0
    for fold in range(_folds(entries)):
        removed = set(order[(fold * n_unknown) % max(1, len(order)):][:n_unknown])
        held: list[tuple[str, int, str]] = []  # (text, entry index, kind)
        kept: list[FaqEntry] = []
        position: dict[int, int] = {}  # entry index → its index in the fold
        for i, entry in enumerate(entries):
            if i in removed:
                for qs in by_lang[i].values():
                    held.extend((q, i, "unknown") for q in qs[:MAX_UNKNOWN_PER_ENTRY])
                continue
            out = set()
            for qs in by_lang[i].values():
                if len(qs) >= 2 and fold < len(qs):
                    out.add(qs[fold])
                    held.append((qs[fold], i, "known"))
            rest = [q for q in entry.questions if q not in out]
            position[i] = len(kept)
            kept.append(entry.model_copy(update={"questions": rest}))
        if not held or not kept:
            continue
        fold_matcher = FaqMatcher(kept, matcher.encoder, matcher.phrasing_vectors)
        for text, i, kind in held:
            match = fold_matcher.match(text)
            conf = match.confidence if match else 0.0
            picked = match.entry.id if match else ""
            right = kind == "known" and picked == entries[i].id
            typical = fold_matcher.typicality(text, position[i]) if kind == "known" else 1.0
            samples.append(Sample(kind, _lang(text), conf, right, entries[i].id, picked, text, typical))
    for lang, texts in out_of_scope().items():
        for text in texts:
            match = matcher.match(text)
            samples.append(Sample("oos", lang, match.confidence if match else 0.0, False, "",
                                  match.entry.id if match else "", text))
    return samples


def _choose(samples: Sequence[Sample], max_wrong_share: float, rich: bool) -> LanguageCalibration | None:
    """The lowest threshold whose answers have an expected wrong share within the limit (module doc)."""
    kinds = {kind: [s for s in samples if s.kind == kind] for kind in MIX}
    if not kinds["known"]:
        return None
    power = TYPICAL_POWER if rich else 0.0
    floor = RICH_FLOOR if rich else FLOOR

    def raw(s: Sample) -> float:
        return max(s.typicality, 1e-6) ** power if s.kind == "known" else 1.0

    totals = {kind: sum(raw(s) for s in group) for kind, group in kinds.items() if group}
    weight = {id(s): MIX[s.kind] * raw(s) / totals[s.kind] for s in samples if s.kind in totals}
    # Walk the samples from the most confident down, accumulating weighted answers and wrong answers.
    ordered = sorted((s for s in samples if s.kind in totals), key=lambda s: -s.confidence)
    answers = wrong = 0.0
    threshold = CEILING
    for i, s in enumerate(ordered):
        w = weight[id(s)]
        answers += w
        wrong += 0.0 if s.right else w
        if i + 1 < len(ordered) and ordered[i + 1].confidence == s.confidence:
            continue  # a threshold cannot split equal confidences
        if s.confidence < floor:
            break
        if (wrong + PRIOR[0]) / (answers + PRIOR[1]) <= max_wrong_share:
            threshold = min(CEILING, s.confidence)
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
    )


def rich_in(entries: Sequence[FaqEntry], lang: str) -> bool:
    """True when the entries written in `lang` have a median of `RICH` phrasings or more in it."""
    counts = sorted(n for n in (sum(_lang(q) == lang for q in e.questions) for e in entries) if n)
    return bool(counts) and counts[len(counts) // 2] >= RICH


def calibrate(entries: Sequence[FaqEntry], matcher: FaqMatcher, max_wrong_share: float) -> Calibration:
    """Cross-validate `entries` (module doc) and choose a threshold per language."""
    samples = cross_validate(entries, matcher)
    languages = {}
    for lang in LANGUAGES:
        chosen = _choose([s for s in samples if s.lang == lang], max_wrong_share, rich_in(entries, lang))
        if chosen is not None:
            languages[lang] = chosen
    return Calibration(max_wrong_share, languages, tuple(samples))
