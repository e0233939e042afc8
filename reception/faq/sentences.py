"""A buyer's message read sentence by sentence, in a language where the FAQ is rich in phrasings.

In a language where the FAQ is rich (`rich_in`), a message of several sentences (split after . ! ? ; and their
Chinese forms, and at line breaks) is also matched sentence by sentence, on the words alone
(`FaqMatcher.match`): when a sentence names the same entry as the whole message, the answer takes the larger
confidence. The confidence was fitted on one-question messages, where words the entry lacks are evidence against
it; in "I ordered a blanket last Thursday and my husband is away. How can I find out where it is?" the story's
words are not. On buyer messages written apart from the bundled FAQ, English messages of 25 words or more had
the right entry first 87% of the time but were answered 19% of the time (median confidence of the right ones
0.57). A sentence can only raise the whole message's own best entry, never bring another, so a story that
mentions one topic and asks about another is answered (if at all) with the entry the whole message names. Commas
do not cut: clauses cut at commas too ("I made a transfer, but it has not arrived") answered a few more
development messages right but more wrong (CSDS + SMP2017 at 5 phrasings: 3 wrong answers of 8 over three
samples, against 1 of 6). Only rich languages: a rich FAQ's threshold comes from its own cross-validated
samples, which are matched the same way, while a thin FAQ is held to the global calibration (`calibrate`), which
the larger of several confidences no longer is: on the thin development FAQs it left banking77 at 6.1% of its
answers wrong (5 phrasings, seed 0; 4.4% without).
"""

from __future__ import annotations

import re
from typing import Sequence

from .loader import FaqEntry
from .text import has_cjk

RICH = 12  # median phrasings per entry in a language from which the FAQ counts as rich there (`calibrate`)
SENTENCE = re.compile(r"(?<=[。！？；])\s*|(?<=[.!?;])\s+|\n+")  # where a message is cut into sentences
MAX_SENTENCES = 8  # sentences matched on their own, the last ones (a question usually ends the message)


def rich_in(entries: Sequence[FaqEntry], lang: str) -> bool:
    """True when the entries written in `lang` ("zh" or "en") have a median of `RICH` phrasings or more in it."""
    counts = sorted(n for n in (sum(has_cjk(q) == (lang == "zh") for q in e.questions) for e in entries) if n)
    return bool(counts) and counts[len(counts) // 2] >= RICH


def sentences(text: str) -> list[str]:
    """The sentences of a message of more than one (the last `MAX_SENTENCES`), else none."""
    parts = [part for part in SENTENCE.split(text) if part.strip(" .!?;\n。！？；")]
    return parts[-MAX_SENTENCES:] if len(parts) > 1 else []
