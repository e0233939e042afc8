"""The matcher's calibrated confidence: its inputs (`confidence_features`, `semantic_features`) and the logistic
over them, fitted on the public development sets by ``python -m reception.faq.evaluate --fit`` (``--semantic``
for the coefficients with sentence vectors); ~P(the best entry is right) on FAQs like those sets.

The confidence is a logistic function (`confidence_features`) of the
best entry's score, its margin over the runner-up *entry* and over the
third, how much of the message the entry and its best phrasing cover,
unknown-word weight, the string score and the problem mismatch, and of
the FAQ itself: log of its number of entries, log of the entry's
phrasings in the message's script, and how similar the two best entries
are (centroid cosine). The coefficients (``_COEF``) were fitted by
``python -m reception.faq.evaluate --fit`` (``evaluate/fit.py``): a
logistic regression on 171k messages of development splits (seeds 1-6;
the reported benchmark uses seed 0) of clinc150, banking77, bitext, HINT3
and CSDS+SMP2017 with FAQs of 5 and 10 phrasings per intent: 84 full
splits (all intents but 20%) and 324 small-FAQ splits (10-50 sampled
intents), the two kinds weighing the same. Calibration on those splits
(predicted/observed share right): full 0.75/0.72 in the 0.7-0.8 bin,
0.85/0.83 in 0.8-0.9, 0.96/0.97 above; small FAQs 0.75/0.78, 0.85/0.88,
0.97/0.98 (still slightly cautious there).
"""

from __future__ import annotations

import math
from typing import Sequence

# The logistic confidence over `confidence_features`, fitted by `python -m reception.faq.evaluate --fit` (module doc).
_COEF = (-3.573, 0.323, 5.856, 4.722, 1.219, -5.313, 0.168, 3.270, -0.796, 6.102, -0.116, -0.270, 0.403, 1.499, 1.014)
# … and over `confidence_features` + `semantic_features`, fitted with ``--fit --semantic``.
_COEF_SEMANTIC = (-3.852, 0.737, 3.121, 4.502, 0.236, -4.052, 0.453, 1.090, -0.262, 3.895, -0.221, -0.217, 0.348,
                  1.428, 0.896, 1.295, 4.096, -0.058)


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def confidence_features(score: float, margin: float, coverage: float, string: float, phrasing: float, oov: float,
                        cos: float, centroid: float, mismatch: float, entries: int, phrasings: int,
                        similarity: float, gap: float) -> tuple[float, ...]:
    """The inputs of the logistic confidence, in the order of ``_COEF``.

    About the message and the entry: score: blended entry score; margin: over
    the other of the two best entries; coverage / phrasing: share of the
    message's weight found in the entry / its best phrasing; string: rapidfuzz
    score of the best phrasing; oov: weight of features unknown to the FAQ;
    cos / centroid: cosine to the best phrasing / to the entry centroid;
    mismatch: 1 when only one side reports a problem.
    About this FAQ: entries: how many; phrasings: how many the entry has in
    the message's script (Chinese or not); similarity: cosine of the two best
    entries' centroids (close entries are easy to confuse); gap: score over
    the third best entry.
    """
    return (1.0, score, margin, coverage, string, phrasing, oov, cos, centroid, min(margin, 0.15), mismatch,
            math.log(max(1, entries)), math.log(max(1, phrasings)), similarity, gap)


def semantic_features(mine: float, rival: float) -> tuple[float, ...]:
    """The semantic inputs added after `confidence_features`: the entry's best phrasing cosine in
    sentence-vector space, its margin over the best other entry's, and whether it leads there."""
    return (mine, mine - rival, float(mine >= rival))


def confidence(inputs: Sequence[float]) -> float:
    """The calibrated confidence for `confidence_features` inputs (plus `semantic_features`)."""
    coef = _COEF if len(inputs) == len(_COEF) else _COEF_SEMANTIC
    return _logistic(sum(c * v for c, v in zip(coef, inputs)))
