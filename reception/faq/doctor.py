"""The FAQ doctor: what the shop can improve in its FAQ, from its calibration and its text.

`diagnose` reports, per language, the threshold the calibration chose with
the answer rate and wrong share it expects, and, as advice: pairs of entries
the bot confuses (with the phrasings that collide), entries with too few
phrasings in a language, phrasings found in two entries, and answers missing
a language. Nothing here is an error: a file the loader refuses is one, and
`reception faq check` reports it before the doctor runs. `for_entry` gives
the same advice for one entry (the dashboard's try-out box).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Sequence

from .calibrate import LANGUAGES, Calibration, Sample, thin_floor
from .loader import FaqEntry, LocalizedText
from .sentences import RICH
from .text import has_cjk, normalize

MIN_PHRASINGS = 5  # fewer phrasings than this in a language the FAQ serves leaves buyers unmatched
MAX_PAIRS = 10


@dataclass(frozen=True)
class Confusion:
    """Two entries the bot mixes up: how often in the cross-validation, and the phrasings that collided."""

    entry: str  # the entry a phrasing belongs to
    other: str  # the entry it was matched to
    count: int
    examples: tuple[str, ...]  # phrasings of `entry` that went to `other`


@dataclass
class Diagnosis:
    """The doctor's findings for one FAQ (all of them advice)."""

    entries: int
    phrasings: int
    languages: dict[str, dict[str, float]]  # lang → threshold, answer_rate, right_rate, wrong_share, rich
    confusions: list[Confusion] = field(default_factory=list)
    few_phrasings: list[tuple[str, str, int]] = field(default_factory=list)  # (entry, lang, count)
    shared_phrasings: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (phrasing, entries)
    missing_answers: list[tuple[str, str]] = field(default_factory=list)  # (entry, lang)

    def as_json(self) -> dict[str, object]:
        return {
            "entries": self.entries, "phrasings": self.phrasings, "languages": self.languages,
            "confusions": [{"entry": c.entry, "other": c.other, "count": c.count, "examples": list(c.examples)}
                           for c in self.confusions],
            "few_phrasings": [{"entry": e, "lang": lang, "count": n} for e, lang, n in self.few_phrasings],
            "shared_phrasings": [{"phrasing": p, "entries": list(ids)} for p, ids in self.shared_phrasings],
            "missing_answers": [{"entry": e, "lang": lang} for e, lang in self.missing_answers],
        }


def _lang(text: str) -> str:
    return "zh" if has_cjk(text) else "en"


def _served(entries: Sequence[FaqEntry]) -> set[str]:
    """The languages buyers write to this FAQ in: those its phrasings are written in."""
    return {_lang(q) for e in entries for q in e.questions}


def _confusions(samples: tuple[Sample, ...], calibration: Calibration) -> list[Confusion]:
    """Phrasings held out of their entry and matched to another one, most often first.

    A pair counts when the wrong entry came within reach of the threshold (80% of it): far-off
    mismatches are handed over anyway and cost nothing.
    """
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s in samples:
        if s.kind == "known" and not s.right and s.answered and s.answered != s.entry \
                and s.confidence >= 0.8 * calibration.threshold(s.lang):
            pairs[s.entry, s.answered].append(s.text)
    ranked = sorted(pairs.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [Confusion(a, b, len(texts), tuple(dict.fromkeys(texts))[:3]) for (a, b), texts in ranked[:MAX_PAIRS]]


def _missing(entry: FaqEntry, served: set[str]) -> list[str]:
    answer = entry.answer
    if isinstance(answer, LocalizedText):
        have = {lang for lang in LANGUAGES if getattr(answer, lang)}
    else:
        have = {_lang(answer)}
    return sorted(served - have)


def diagnose(entries: Sequence[FaqEntry], calibration: Calibration) -> Diagnosis:
    """Everything the doctor finds in an FAQ and its calibration (module doc)."""
    served = _served(entries)
    languages = {lang: {"threshold": c.threshold, "answer_rate": round(c.answer_rate, 4),
                        "right_rate": round(c.right_rate, 4), "wrong_share": round(c.wrong_share, 4), "rich": c.rich}
                 for lang, c in calibration.languages.items()}
    found = Diagnosis(len(entries), sum(len(e.questions) for e in entries), languages,
                      _confusions(calibration.samples, calibration))
    owners: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        counts = Counter(_lang(q) for q in entry.questions)
        for lang in sorted(served):
            if counts[lang] < MIN_PHRASINGS:
                found.few_phrasings.append((entry.id, lang, counts[lang]))
        for lang in _missing(entry, served):
            found.missing_answers.append((entry.id, lang))
        for q in dict.fromkeys(normalize(q) for q in entry.questions):
            owners[q].append(entry.id)
    found.shared_phrasings = [(q, tuple(ids)) for q, ids in owners.items() if len(ids) > 1]
    return found


def for_entry(diagnosis: Diagnosis, entry_id: str) -> dict[str, object]:
    """The doctor's advice that concerns one entry."""
    return {
        "confusions": [{"entry": c.entry, "other": c.other, "count": c.count, "examples": list(c.examples)}
                       for c in diagnosis.confusions if entry_id in (c.entry, c.other)],
        "few_phrasings": [{"lang": lang, "count": n} for e, lang, n in diagnosis.few_phrasings if e == entry_id],
        "shared_phrasings": [{"phrasing": p, "entries": list(ids)} for p, ids in diagnosis.shared_phrasings
                             if entry_id in ids],
        "missing_answers": [lang for e, lang in diagnosis.missing_answers if e == entry_id],
    }


def report(diagnosis: Diagnosis, max_wrong_share: float) -> str:
    """The diagnosis as text for a terminal."""
    lines = [f"ok: {diagnosis.entries} entries, {diagnosis.phrasings} phrasings"]
    for lang, figures in sorted(diagnosis.languages.items()):
        lines.append(f"  {lang}: answers at confidence >= {figures['threshold']:.2f}; it answered "
                     f"{figures['answer_rate']:.0%} of its own phrasings when each was held out (buyers' "
                     f"questions are usually closer); expected wrong answers {figures['wrong_share']:.1%} "
                     f"(limit {max_wrong_share:.0%})")
        if not figures.get("rich", True):
            lines.append(f"    (fewer than {RICH} phrasings per entry in {lang}: the bot answers only at "
                         f"{thin_floor(max_wrong_share):.2f} or more, where the confidence alone keeps wrong answers "
                         f"under the limit; write more phrasings per entry to let it answer more)")
    sections = [
        ("entries the bot confuses (a phrasing of the first went to the second); make their phrasings more "
         "distinct or merge them", [f"{c.entry} -> {c.other} ({c.count}x): " + " | ".join(c.examples)
                                    for c in diagnosis.confusions]),
        ("phrasings written in two entries (the bot cannot tell which is meant)",
         [f"{phrasing!r}: {', '.join(ids)}" for phrasing, ids in diagnosis.shared_phrasings]),
        (f"entries with fewer than {MIN_PHRASINGS} phrasings in a language buyers use",
         [f"{entry}: {n} in {lang}" for entry, lang, n in diagnosis.few_phrasings]),
        ("answers missing a language buyers write in (they get the other one)",
         [f"{entry}: no {lang} answer" for entry, lang in diagnosis.missing_answers]),
    ]
    for title, items in sections:
        if items:
            lines.append(f"advice: {title}:")
            lines.extend(f"  {item}" for item in items)
    if not any(items for _, items in sections):
        lines.append("no advice: the FAQ looks healthy")
    return "\n".join(lines)
