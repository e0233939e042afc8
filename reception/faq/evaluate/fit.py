"""Fitting the matcher's confidence (``_COEF`` in ``reception/faq/confidence.py``), offline.

``python -m reception.faq.evaluate --fit`` builds development splits on seeds
1-6 (the reported benchmark uses seed 0), sends their messages to the
matcher and fits a logistic regression of "the best entry is right" on
`confidence_features`. Two kinds of splits weigh the same in total, each
split weighing the same within its kind:

* full splits: the benchmark protocol on every dataset of ``FIT_DATASETS``
  (60-150 intents, or all of a smaller set), k = 5 and 10;
* small-FAQ splits: ``SMALL_FAQS`` intents (10-50) sampled per dataset and
  seed, with the messages of those intents and a proportional share of the
  out-of-scope and human-request messages, then the same protocol (20% of
  the sampled intents left out, k = 5 and 10). A shop's FAQ is usually this
  size, and a small FAQ has fewer rivals per entry: without these splits the
  confidence is too low on small FAQs.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Sequence

from ...human_request import is_human_request
from ..matcher import FaqMatcher
from ..semantic import Encoder
from .datasets import HUMAN, OOS, Corpus, _rng, load_corpora
from .protocol import MAX_WRONG_SHARE, make_splits

FIT_DATASETS = ("clinc150", "banking77", "bitext", "hint3-curekart", "hint3-powerplay11", "hint3-sofmattress",
                "csds+smp")
FIT_SEEDS = (1, 2, 3, 4, 5, 6)
SMALL_FAQS = (10, 15, 20, 30, 50)  # intents per small-FAQ split (when at most 80% of the dataset's intents)
SMALL_MESSAGES = 600  # messages per small-FAQ split at most
NOISY = ("csds+smp", "hint3-powerplay11")  # label noise: reported, not counted against a threshold

Sample = tuple[str, tuple[float, ...], bool]  # (split, confidence inputs of the best entry, is it right)


def small_corpus(corpus: Corpus, seed: int, n_intents: int) -> Corpus:
    """`n_intents` intents of `corpus` with their messages and a proportional share of the
    out-of-scope and human-request messages."""
    rng = _rng(seed, f"{corpus.name}:small{n_intents}")
    intents = sorted(corpus.train)
    keep = set(rng.sample(intents, n_intents))
    share = n_intents / len(intents)
    test = [(t, label) for t, label in corpus.test if label in keep or (label in (OOS, HUMAN) and rng.random() < share)]
    return Corpus(f"{corpus.name}#{n_intents}", corpus.lang, {i: corpus.train[i] for i in sorted(keep)}, test,
                  corpus.ks)


def confidence_samples(root: Path, seeds: Sequence[int], names: Sequence[str] | None = None,
                       max_messages: int = 1500, small: Sequence[int] = SMALL_FAQS,
                       encoder: Encoder | None = None) -> list[Sample]:
    """A sample for every message of the full and small-FAQ splits that reaches the matcher;
    the split is named ``dataset[#intents]/k@seed``."""
    samples: list[Sample] = []
    for seed in seeds:
        for corpus in load_corpora(root, seed, names):
            corpora = [(corpus, max_messages)]
            corpora += [(small_corpus(corpus, seed, n), min(max_messages, SMALL_MESSAGES))
                        for n in small if n <= 0.8 * len(corpus.train)]
            for part, limit in corpora:
                for split in make_splits(part, seed, limit):
                    matcher = FaqMatcher(split.faq, encoder)
                    for text, label in split.messages:
                        if is_human_request(text):
                            continue
                        inputs = matcher._inputs(text)
                        if inputs and inputs[1]:  # (an empty ranking gets confidence 0 without the model)
                            right = matcher.entries[inputs[0][0][1]].id == label
                            samples.append((f"{part.name}/{split.k}@{seed}", inputs[1], right))
    return samples


def split_weights(samples: Sequence[Sample]) -> list[float]:
    """Full and small-FAQ splits weigh the same in total; within each kind, every split the same
    (scaled to a total weight of one per split, which the ridge penalty of `fit_logistic` assumes)."""
    sizes = Counter(g for g, _, _ in samples)
    kinds = Counter("#" in g for g in sizes)
    return [len(sizes) / (sizes[g] * kinds["#" in g] * len(kinds)) for g, _, _ in samples]


def fit_logistic(samples: Sequence[Sample], weights: Sequence[float] | None = None, l2: float = 1e-3,
                 iterations: int = 50) -> list[float]:
    """Weighted logistic regression by Newton steps (pure Python); the intercept is not penalised."""
    if weights is None:
        sizes = Counter(g for g, _, _ in samples)
        weights = [1.0 / sizes[g] for g, _, _ in samples]
    dim = len(samples[0][1])
    pairs = [(i, j) for i in range(dim) for j in range(i, dim)]
    beta = [0.0] * dim
    for _ in range(iterations):
        grad = [0.0] * dim
        hess = [0.0] * len(pairs)
        for w, (_, x, y) in zip(weights, samples):
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, sum(b * v for b, v in zip(beta, x))))))
            r, c = w * (y - p), w * p * (1 - p)
            for i in range(dim):
                grad[i] += r * x[i]
            cx = [c * v for v in x]
            for n, (i, j) in enumerate(pairs):
                hess[n] += cx[i] * x[j]
        full = [[0.0] * dim for _ in range(dim)]
        for n, (i, j) in enumerate(pairs):
            full[i][j] = full[j][i] = hess[n]
        for i in range(1, dim):
            grad[i] -= l2 * beta[i]
            full[i][i] += l2
        step = _solve(full, grad)
        beta = [b + s for b, s in zip(beta, step)]
        if max(abs(s) for s in step) < 1e-7:
            break
    return beta


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c and m[c][c]:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] if m[i][i] else 0.0 for i in range(n)]


def _p(coef: Sequence[float], x: Sequence[float]) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, sum(b * v for b, v in zip(coef, x))))))


def reliability(samples: Sequence[Sample], coef: Sequence[float], out=sys.stdout) -> None:
    """Predicted vs observed accuracy in confidence bins, for full and small-FAQ splits apart."""
    for kind, small in (("full splits", False), ("small FAQs", True)):
        bins: dict[int, list[tuple[float, bool]]] = defaultdict(list)
        for g, x, y in samples:
            if ("#" in g) == small:
                p = _p(coef, x)
                bins[min(9, int(p * 10))].append((p, y))
        cells = (f"{b / 10:.1f}+ {statistics.mean(p for p, _ in ps):.2f}/{sum(y for _, y in ps) / len(ps):.2f}"
                 for b, ps in sorted(bins.items()) if b >= 5)
        print(f"  {kind}: " + "  ".join(cells), file=out)


def threshold_table(samples: Sequence[Sample], coef: Sequence[float],
                    thresholds: Sequence[float] = (0.75, 0.80, 0.82, 0.85, 0.88, 0.90), min_answers: int = 20,
                    out=sys.stdout) -> None:
    """Per candidate threshold and kind of split: the right share, the wrong share of answers (mean
    over splits), and the splits with enough answers whose wrong share exceeds `MAX_WRONG_SHARE` (noisy sets apart)."""
    groups: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for g, x, y in samples:
        groups[g].append((_p(coef, x), y))
    for t in thresholds:
        line = f"  threshold {t:.2f}:"
        for kind, small in (("full", False), ("small", True)):
            rights, shares, over = [], [], []
            for g, ps in sorted(groups.items()):
                if ("#" in g) != small or g.startswith(NOISY):
                    continue
                answered = [y for p, y in ps if p >= t]
                rights.append(sum(answered) / len(ps))
                shares.append(answered.count(False) / max(1, len(answered)))
                if len(answered) >= min_answers and answered.count(False) > MAX_WRONG_SHARE * len(answered):
                    over.append(g)
            line += (f"  {kind}: right {statistics.mean(rights):.3f} wrong/ans {statistics.mean(shares):.3f}"
                     f" over {MAX_WRONG_SHARE:.0%} {len(over)}/{len(rights)}")
        print(line, file=out)


def fit_confidence(root: Path, names: Sequence[str] | None = None, seeds: Sequence[int] = FIT_SEEDS,
                   encoder: Encoder | None = None, out=sys.stdout) -> list[float]:
    """Fit the matcher's ``_COEF`` (``_COEF_SEMANTIC`` with an `encoder`) on development seeds (not the
    reported seed 0); print them, the calibration and how candidate thresholds fare on the same splits."""
    samples = confidence_samples(Path(root), seeds, names or FIT_DATASETS, encoder=encoder)
    coef = fit_logistic(samples, split_weights(samples))
    n_splits = len({g for g, _, _ in samples})
    name = "_COEF_SEMANTIC" if encoder is not None else "_COEF"
    print(f"fitted on {len(samples)} messages of {n_splits} splits, seeds {list(seeds)}:\n"
          f"{name} = ({', '.join(f'{c:.3f}' for c in coef)})", file=out)
    print("calibration (predicted/observed accuracy per confidence bin):", file=out)
    reliability(samples, coef, out=out)
    print(f"thresholds (clean splits; {', '.join(NOISY)} left aside for label noise):", file=out)
    threshold_table(samples, coef, out=out)
    return coef
