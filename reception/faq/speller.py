"""The FAQ matcher's speller: an English word the FAQ lacks, read as the FAQ word it misspells or as two run together.

A word the FAQ has (by stem), a stop word, a word under four letters or one that is not ASCII stays as it
is. A real English word (`tokens.english_word`) is never respelled, and is split in two only into two FAQ
words, neither a stop word ("callback" → call back; "today" is not "to day"). Any other word is corrected
to the nearest FAQ word by optimal string alignment (one edit under eight letters, two from eight), looked
up among the FAQ words of about its length that share its first or its last two letters.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .tokens import STOP_EN, english_word, stem


def _key2(word: str) -> str:
    return "".join(sorted(word[:2]))


class Speller:
    """Corrections into the English words of one FAQ."""

    def __init__(self, vocab: Iterable[str]) -> None:
        known = sorted(set(vocab))
        self._stems = {stem(w) for w in known}
        self._near: dict[tuple[int, str], list[str]] = defaultdict(list)
        for w in known:  # near-spelling buckets: (length, first two letters / last two letters)
            self._near[len(w), _key2(w)].append(w)
            self._near[len(w), "$" + _key2(w[-2:])].append(w)

    def correct(self, word: str) -> list[str]:
        """`word` (lower case) as FAQ words: itself, a near spelling, or a split run-on."""
        if len(word) < 4 or word in STOP_EN or not word.isascii() or stem(word) in self._stems:
            return [word]
        real = english_word(word)  # a real word splits into two FAQ words ("callback"), not a stop word and
        for i in range(2, len(word) - 1):  # another ("today" is not "to day"), and is never respelled
            a, b = word[:i], word[i:]
            if (a in STOP_EN or stem(a) in self._stems) and stem(b) in self._stems and not (
                    real and (a in STOP_EN or b in STOP_EN)):
                return [a, b]
        candidates = [w for d in (-1, 0, 1) if not real for key in (_key2(word), "$" + _key2(word[-2:]))
                      for w in self._near.get((len(word) + d, key), ())]
        best = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=1 if len(word) < 8 else 2)
        return [best[0]] if best else [word]
