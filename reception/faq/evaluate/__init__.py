"""The FAQ quality benchmark: how often the bot answers right, answers wrong, or hands over.

Protocol (``shared/datasets/README.md``, "How the bot is measured"): per
dataset an FAQ is built with one entry per intent (answer = the intent name)
from **k phrasings per intent** (k = 5 and 10) of a training part; 20% of the
intents are left out of the FAQ (fixed seed); human-request intents are never
entries. Messages of a test part never used for the FAQ (at most
``--max-messages``, fixed seed; the same messages for both k) are sent one
per fresh conversation to a `Responder`. Outcomes: ``right`` (answered with
the right entry), ``wrong`` (another entry; any answer to a left-out,
out-of-scope or human-request message is wrong) and ``handover`` (with its
reason). Human requests must end as handover with reason ``requested``.

Datasets, read at run time from ``--datasets`` (the Chinese sets are research
only and are never copied):

* clinc150: FAQ from ``train``, messages from ``val`` plus ``oos_*`` (out of scope).
* banking77, bitext (8k file; ``contact_human_agent`` = human request),
  HINT3 v2 per shop (``CHAT_WITH_AGENT``/``CHAT_WITH_AN_AGENT`` = human
  request): one file, split per intent: up to 10 phrasings (and at most ~70%
  of the intent) for the FAQ, the rest are messages.
* csds+smp (zh): one buyer message per CSDS segment: the buyer turn with the
  best character-bigram overlap with the user half of the segment's
  ``QASumm`` (a turn serves one segment of its dialogue, weak or ambiguous
  alignments and texts found under two topics are dropped; ``[订单编号]``-style
  masks get plausible values). Labels are the topics; ``联系客服`` = human
  request. Mixed in: 300 SMP2017 sentences (chat, weather, music…: out of
  scope for a shop) and the AFQMC label-1 paraphrases of
  ``请联系人工客服为我解答`` (human requests).
* afqmc-para (zh, k=1, diagnostic, not held to the targets): AFQMC pairs; the
  first sentence of each sampled pair is an entry, the second the message:
  label 1 must find its partner, label 0 (a near miss, mostly about the same
  花呗/借呗 product) must not be answered. AFQMC's label-1 pairs only form
  components of 2-3 sentences, too small for k-phrasing intents.

Baselines on the same splits: (a) the rapidfuzz nearest question
(``process.extractOne``, ``fuzz.WRatio``) and (b) a small TF-IDF nearest
question (word tokens; Chinese character uni+bigrams; cosine). Each gets an
oracle threshold chosen on the test messages themselves (most right answers
with a wrong share of answers <= 10%) and, like the bot, the human-request
rule first, so the comparison isolates the matching.

``python -m reception.faq.evaluate`` (or ``reception faq eval``) prints the
tables, the human-request report (recall per set, false positives on every
other message) and the match time over a 10,000-question FAQ;
``--fit`` refits the matcher's confidence on development seeds 1-6, with
small-FAQ splits besides the full ones (``fit.py``).
To measure another bot (the pipeline), pass ``run(responder_factory=...)``.

Modules: ``datasets`` (loading), ``protocol`` (responders, splits, tallies),
``baselines``, ``report`` (rows, human-request and timing reports),
``runner`` (`run`), ``fit`` (the confidence fit) and ``cli`` (`main`).
"""

from __future__ import annotations

from .baselines import RapidfuzzNearest, TfidfNearest, oracle_threshold, run_baseline
from .cli import main
from .datasets import DEFAULT_DATASETS, HUMAN, LOADERS, OOS, Corpus, load_corpora
from .fit import confidence_samples, fit_confidence, fit_logistic
from .protocol import (
                       MAX_WRONG_SHARE,
                       TARGET_REQUESTED,
                       DirectResponder,
                       Responder,
                       ResponderFactory,
                       Split,
                       Tally,
                       make_splits,
                       run_responder,
)
from .report import human_request_report, timing_report
from .runner import Results, run

__all__ = [
    "DEFAULT_DATASETS", "HUMAN", "LOADERS", "MAX_WRONG_SHARE", "OOS", "TARGET_REQUESTED", "Corpus", "DirectResponder",
    "RapidfuzzNearest", "Responder", "ResponderFactory", "Results", "Split", "Tally", "TfidfNearest",
    "confidence_samples", "fit_confidence", "fit_logistic", "human_request_report", "load_corpora", "main",
    "make_splits", "oracle_threshold", "run", "run_baseline", "run_responder", "timing_report",
]
