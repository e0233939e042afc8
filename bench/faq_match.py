"""FAQ match over 10,000 phrasings, against issue 16's aim of 1 ms at p99, with and without sentence vectors.

The FAQ is the one `reception faq eval` times (``timing_faq``): 5,000
CLINC150 English and 5,000 AFQMC Chinese sentences from ``../shared/datasets``,
ten phrasings an entry. The messages are 1,000 held-out sentences of each
language, every one sent once (new to the matcher). Rows, in the same run:

* baseline: rapidfuzz's nearest phrasing (``process.extractOne``, WRatio), the
  plain lexical matcher a shop could write in one line;
* ``FaqMatcher.match`` without vectors (the default install);
* with the ``semantic`` extra's vectors, the message encoded as a new text
  (what a buyer's new question costs);
* the same with the message's vector already known (the encoder's cache: a
  repeated question, or the matching alone beside the encoding).

    python bench/faq_match.py [--datasets ../shared/datasets] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Callable, Sequence

from rapidfuzz import fuzz, process

from reception.faq.evaluate.datasets import DEFAULT_DATASETS
from reception.faq.evaluate.report import timing_faq
from reception.faq.matcher import FaqMatcher
from reception.faq.semantic import Encoder, load_encoder

AIM_MS = 1.0


def timed(fn: Callable[[str], object], messages: Sequence[str]) -> list[float]:
    out = []
    for text in messages:
        start = time.perf_counter()
        fn(text)
        out.append((time.perf_counter() - start) * 1000)
    return out


def row(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p50, p99 = ms[len(ms) // 2], ms[int(0.99 * len(ms))]
    verdict = "met" if p99 < AIM_MS else "NOT met"
    return f"{name:46}{statistics.mean(ms):>9.3f}{p50:>9.3f}{p99:>9.3f}   {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    entries, messages = timing_faq(args.datasets)
    phrasings = [q for e in entries for q in e.questions]
    lexical = FaqMatcher(entries)
    found = load_encoder()
    semantic = None
    if found is not None:
        encoder = Encoder(cache_size=len(messages) + 10)  # its own cache: the round's messages all fit
        started = time.perf_counter()
        semantic = FaqMatcher(entries, encoder)
        print(f"sentence vectors of {len(phrasings):,} phrasings (and the encoder's load): "
              f"{time.perf_counter() - started:.1f} s")
    print(f"{len(phrasings):,} phrasings in {len(entries):,} entries, {len(messages):,} messages; ms per match")
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_}{'':38}{'mean':>9}{'p50':>9}{'p99':>9}   aim p99 < {AIM_MS} ms")
        print(row("baseline: rapidfuzz nearest phrasing", timed(
            lambda t: process.extractOne(t, phrasings, scorer=fuzz.WRatio), messages)))
        print(row("matcher, lexical", timed(lexical.match, messages)))
        if semantic is not None:
            semantic.encoder._cache.clear()  # every message new again
            print(row("matcher with vectors, message new", timed(semantic.match, messages)))
            print(row("matcher with vectors, message encoded before", timed(semantic.match, messages)))
    if semantic is None:
        print("(the semantic extra is not installed: pip install 'reception[semantic]')")


if __name__ == "__main__":
    main()
