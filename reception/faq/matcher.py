"""The FAQ matcher: finds the FAQ entry a buyer's message asks about, with a calibrated confidence.

How a message is matched
------------------------
1. Text becomes features (`tokens.words`, `tokens.features`): Chinese runs give character
   unigrams and bigrams after folding colloquial variants (``能不能`` → ``能``,
   ``咋`` → ``怎么``, ``几天`` → ``多久``); Latin words are expanded (``don't``,
   ``u``, ``pls``), folded through a few shop synonyms (modify → change,
   parcel → package) and lightly stemmed; digit runs become one token.
   Unknown English words are corrected to the nearest FAQ word with
   rapidfuzz (``retrun`` → ``return``) or split when run together (`speller`).
2. Features are weighted by inverse *entry* frequency (a word found in every
   entry tells nothing), function words down-weighted; features the FAQ has
   never seen keep the highest weight, so unknown content lowers the score
   (an unseen Chinese bigram, mostly one across a word boundary, half of it).
3. An inverted index over entry centroids scores the entries. An entry's
   centroid is the unit-length sum of its Chinese phrasings plus that of its
   other phrasings, so a Chinese message meets the Chinese phrasings of a
   bilingual entry undiluted by the English ones (and vice versa). Long
   posting lists (common words) are only scored for the candidates found by
   rarer features (a match over 10,000 phrasings: ~0.2 ms, p99 ~0.5 ms,
   ``bench/faq_match.py``). The top entries, and the entry of a phrasing
   identical to the message, are re-scored:
   entry score = 0.65 centroid cosine + 0.2 best-phrasing cosine + 0.15
   rapidfuzz ``token_sort_ratio`` of the best phrasing, minus a small penalty
   when only one side reports a problem ("my refund did not arrive" against
   "how do I get a refund").
4. ``confidence`` is a logistic function of the best entry's evidence and of the FAQ itself
   (`confidence`, whose module says what it weighs and how it was fitted).

With sentence vectors the answer is the combined ranking's best entry; its confidence is the larger of
the combined one and, when the words alone and the nearest vectors rank that entry first, the lexical one
(the lexical work is done once for both rankings, `_Memo`). Where the FAQ is rich, a message of several
sentences is also matched sentence by sentence (`sentences`). The threshold an answer needs is derived
per FAQ and language by `calibrate` (``bot.max_wrong_share``), or fixed by ``bot.answer_threshold``.

A message with nothing in common with the FAQ gets the first entry with confidence 0; `FaqMatcher.match`
returns None only when the text normalises to nothing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from rapidfuzz import fuzz, process

from .confidence import confidence, confidence_features, semantic_features
from .loader import FaqEntry
from .semantic import Encoder, Semantic
from .sentences import rich_in, sentences
from .speller import Speller
from .tokens import IS_CJK, features, has_problem, weighted, words

if TYPE_CHECKING:
    from .diskcache import DiskCache

# --- the matcher -------------------------------------------------------------------------

W_MAX, W_CENTROID, W_FUZZ = 0.2, 0.65, 0.15  # entry score = blend of these three similarities
W_POLARITY = 0.03  # penalty when the message reports a problem and the phrasing does not, or the reverse
UNSEEN_IDF = 1.0  # weight of a feature no FAQ phrasing has, relative to the rarest known feature
MAX_CHARS = 500  # longer messages are cut
RERANK = 3  # entries re-scored with their phrasings and rapidfuzz
CANDIDATES = 12  # entries kept from the sparse-feature pass
POSTING_BUDGET = 1500  # postings walked per message; further features are scored for candidates only
DENSE = 0.06  # features in more than this share of entries (and > 64) are scored only for candidates
W_SEMANTIC = 0.5  # with sentence vectors: weight of the best phrasing cosine added to the entry score
SEMANTIC_RERANK = 2  # semantic favourites re-scored besides the lexical ones


@dataclass
class _Memo:
    """The lexical work on one message, shared by its rankings with and without sentence vectors."""

    candidates: dict[bool, dict[int, float]] = field(default_factory=dict)  # by "fallback allowed"
    entries: dict[int, tuple[float, float, float, int, float, float] | None] = field(default_factory=dict)
    similarity: dict[tuple[int, int], float] = field(default_factory=dict)  # of two entries (`_similarity`)


@dataclass(frozen=True)
class Match:
    """The answer to `FaqMatcher.match`."""

    entry: FaqEntry  # best entry
    confidence: float  # calibrated, 0..1: ~P(this entry is right)
    question: str  # the phrasing that matched best
    runner_up: FaqEntry | None
    runner_up_confidence: float


class FaqMatcher:
    """Matches buyer messages to FAQ entries; build once, `match` many times (read-only, thread-safe)."""

    def __init__(self, entries: Sequence[FaqEntry], encoder: Encoder | None = None,
                 known_vectors: Mapping[str, Any] | None = None, cache: DiskCache | None = None) -> None:
        """Index `entries`; with an `encoder`, also their sentence vectors (`known_vectors`: rows
        already encoded, by phrasing, such as those of the FAQ a cross-validation fold comes from;
        `cache`: where the vectors of an FAQ indexed before are kept, `diskcache`)."""
        self.entries = list(entries)
        self.encoder = encoder
        self._rich = (rich_in(self.entries, "en"), rich_in(self.entries, "zh"))  # by "the message is Chinese"
        self._texts: list[str] = []  # phrasing as written
        self._norms: list[str] = []  # phrasing normalised for rapidfuzz
        self._owner: list[int] = []  # phrasing → entry index
        self._problem: list[bool] = []  # phrasing reports a problem (negation, "wrong", 没/不…)
        self._entry_qs: list[list[int]] = [[] for _ in self.entries]
        tfs: list[dict[str, float]] = []
        df: dict[str, int] = defaultdict(int)
        vocab: set[str] = set()
        for e, entry in enumerate(self.entries):
            seen: dict[str, None] = {}  # a dict, not a set: the same FAQ indexes in the same order in every process
            for question in dict.fromkeys(entry.questions):
                runs = words(question)
                tf = features(runs)
                if not tf:
                    continue
                vocab.update(r for r in runs if r.isalpha() and r.isascii())
                self._entry_qs[e].append(len(self._texts))
                self._texts.append(question)
                self._norms.append(" ".join(runs))
                self._problem.append(has_problem(runs))
                self._owner.append(e)
                tfs.append(tf)
                seen.update(dict.fromkeys(tf))
            for f in seen:
                df[f] += 1
        n = max(1, len(self.entries))
        self._idf = {f: math.log((n + 1.0) / (d + 0.5)) + 1.0 for f, d in df.items()}
        self._unseen = (math.log((n + 1.0) / 0.5) + 1.0) * UNSEEN_IDF
        self._speller = Speller(vocab)
        self._entry_norms = [[self._norms[q] for q in qs] for qs in self._entry_qs]
        # a message that is one of the phrasings (a buyer tapping a suggested question) is always re-scored
        # against that phrasing's entry, however far the entry's centroid is from it (`_rank`)
        self._exact: dict[str, int] = {}
        for q, norm in enumerate(self._norms):
            self._exact.setdefault(norm, self._owner[q])
        self._qvec = [weighted(tf, self._idf, self._unseen) for tf in tfs]
        self._fmap: list[dict[str, list[tuple[int, float]]]] = [defaultdict(list) for _ in self.entries]
        for q, vec in enumerate(self._qvec):  # per entry: feature → its phrasings holding it
            for f, v in vec.items():
                self._fmap[self._owner[q]][f].append((q, v))
        # Centroid per entry and script (Chinese / other phrasings), each of unit length, then added:
        # a Chinese message is compared with the Chinese phrasings only, undiluted by the English ones.
        sums: dict[tuple[int, bool], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for q, vec in enumerate(self._qvec):
            part = sums[self._owner[q], bool(IS_CJK.search(self._texts[q]))]
            for f, v in vec.items():
                part[f] += v
        centroids: list[defaultdict[str, float]] = [defaultdict(float) for _ in self.entries]
        for (e, _), part in sums.items():
            nrm = math.sqrt(sum(v * v for v in part.values())) or 1.0
            for f, v in part.items():
                centroids[e][f] += v / nrm
        self._cen: list[dict[str, float]] = [dict(c) for c in centroids]
        self._cen_norm = [math.sqrt(sum(v * v for v in c.values())) or 1.0 for c in self._cen]
        self._n_script = [[0, 0] for _ in self.entries]  # phrasings per entry: [other, Chinese]
        for q, e in enumerate(self._owner):
            self._n_script[e][bool(IS_CJK.search(self._texts[q]))] += 1
        post: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for e, cen in enumerate(self._cen):
            for f, v in cen.items():
                post[f].append((e, v))
        dense = max(64, int(DENSE * n))
        self._post = {f: p for f, p in post.items() if len(p) <= dense}
        self._dense = {f for f, p in post.items() if len(p) > dense}
        self._semantic = (Semantic(encoder, self._texts, self._entry_qs, known_vectors or {}, cache)
                          if encoder is not None and self._texts else None)

    # -- query side --------------------------------------------------------------------
    def _query(self, text: str) -> tuple[str, dict[str, float]] | None:
        runs: list[str] = []
        for run in words(text):
            runs.extend(self._speller.correct(run) if run.isalpha() and run.isascii() else [run])
        tf = features(runs)
        return (" ".join(runs), weighted(tf, self._idf, self._unseen)) if tf else None

    def _candidates(self, qvec: dict[str, float], exclude: int | None, fallback: bool) -> tuple[dict[int, float], bool]:
        """The entries worth re-scoring (``CANDIDATES`` at most) with their centroid scores, and whether the
        `fallback` mattered: the message has common words only (with `fallback`, the least common of them
        then finds the candidates)."""
        scores: dict[int, float] = defaultdict(float)
        dense = []
        budget = POSTING_BUDGET
        for f, w in sorted(qvec.items(), key=lambda fw: -fw[1]):
            post = self._post.get(f)
            if post is None:
                if f in self._dense:
                    dense.append((f, w))
            elif len(post) > budget and scores:  # enough candidates: score this feature for them only
                dense.append((f, w))
            else:
                budget -= len(post)
                for e, v in post:
                    scores[e] += w * v
        common_only = not scores and bool(dense)
        if fallback and common_only:
            f, w = min(dense, key=lambda fw: len(self._idf) - self._idf[fw[0]])
            for e, cen in enumerate(self._cen):
                if f in cen:
                    scores[e] += w * cen[f]
        if exclude is not None:
            scores.pop(exclude, None)
        full = {e: scores[e] for e in sorted(scores, key=scores.__getitem__, reverse=True)[:CANDIDATES]}
        for e in full:
            cen, total = self._cen[e], full[e]
            for f, w in dense:
                weight = cen.get(f)
                if weight:
                    total += w * weight
            full[e] = total
        return full, common_only

    def _evidence(self, e: int, norm_text: str, qvec: dict[str, float],
                  problem: bool) -> tuple[float, float, float, int, float, float] | None:
        """What entry number `e`'s phrasings say of the message: (cosine to its best phrasing, string score,
        coverage, that phrasing, share of the message in it, polarity mismatch); None for an entry
        without phrasings."""
        cos: dict[int, float] = dict.fromkeys(self._entry_qs[e], 0.0)
        if not cos:
            return None
        fmap = self._fmap[e]
        for f, w in qvec.items():
            for q, v in fmap.get(f, ()):
                cos[q] += w * v
        best_q = max(cos, key=cos.__getitem__)
        string = process.extractOne(norm_text, self._entry_norms[e], scorer=fuzz.token_sort_ratio)[1] / 100.0
        centroid, phrasing_vec = self._cen[e], self._qvec[best_q]
        coverage = sum((w * w for f, w in qvec.items() if f in centroid), 0.0)
        phrasing = sum((w * w for f, w in qvec.items() if f in phrasing_vec), 0.0)
        return cos[best_q], string, coverage, best_q, phrasing, float(problem != self._problem[best_q])

    def _rank(self, norm_text: str, qvec: dict[str, float], sims: dict[int, float] | None = None,
              exclude: int | None = None, memo: _Memo | None = None
              ) -> list[tuple[float, int, float, float, int, float, float, float, float]]:
        """The best entries, best first, as (score, entry, string score, coverage, best phrasing,
        cosine to that phrasing, cosine to the entry centroid, share of the message in that phrasing,
        polarity mismatch).

        With sentence vectors (`sims`: entry → best phrasing cosine), the semantic favourites are
        re-scored too and the score adds ``W_SEMANTIC`` times that cosine. Entry number `exclude` is
        never ranked (the calibration's topic the FAQ lacks). `memo`: the lexical work shared by the
        rankings of one message with and without the vectors (the same figures, worked out once)."""
        memo = memo if memo is not None else _Memo()
        fallback = not sims
        if fallback not in memo.candidates:
            found, common_only = self._candidates(qvec, exclude, fallback)
            memo.candidates[fallback] = found
            if not common_only:  # the fallback did not matter: the same with or without vectors
                memo.candidates[not fallback] = found
        full = dict(memo.candidates[fallback])
        rerank = sorted(full, key=full.__getitem__, reverse=True)[:RERANK]
        extra = [] if sims is None else sorted((e for e in sims if e != exclude), key=sims.__getitem__,
                                                 reverse=True)[:SEMANTIC_RERANK]
        exact = self._exact.get(norm_text)
        if exact is not None and exact != exclude:
            extra.append(exact)
        for e in extra:  # the semantic favourites and the entry of an identical phrasing
            if e not in full:
                full[e] = sum(w * self._cen[e].get(f, 0.0) for f, w in qvec.items())
            if e not in rerank:
                rerank.append(e)
        problem = has_problem(norm_text.split())
        ranked = []
        for e in rerank:
            if e not in memo.entries:
                memo.entries[e] = self._evidence(e, norm_text, qvec, problem)
            evidence = memo.entries[e]
            if evidence is None:
                continue
            best_cos, string, coverage, best_q, phrasing, mismatch = evidence
            score = W_MAX * best_cos + W_CENTROID * full[e] + W_FUZZ * string - W_POLARITY * mismatch
            if sims:
                score += W_SEMANTIC * sims.get(e, 0.0)
            ranked.append((score, e, string, coverage, best_q, best_cos, full[e], phrasing, mismatch))
        ranked.sort(reverse=True)
        return ranked

    def typicality(self, text: str, entry: int) -> float:
        """Cosine of `text` to the centroid of entry number `entry`: how central it is among its phrasings."""
        query = self._query(text[:MAX_CHARS])
        if query is None or not self._entry_qs[entry]:
            return 0.0
        centroid = self._cen[entry]
        return sum(v * centroid.get(f, 0.0) for f, v in query[1].items()) / self._cen_norm[entry]

    @property
    def phrasing_vectors(self) -> Mapping[str, Any]:
        """Phrasing → its sentence vector (empty without an encoder)."""
        return self._semantic.table if self._semantic is not None else {}

    def _similarity(self, a: int, b: int) -> float:
        """Cosine of the centroids of entries a and b: how close the two best entries are in this FAQ."""
        ca, cb = self._cen[a], self._cen[b]
        return sum(v * cb[f] for f, v in ca.items() if f in cb) / (self._cen_norm[a] * self._cen_norm[b])

    def _features(self, ranked: list[tuple], i: int, qvec: dict[str, float], chinese: bool,
                  similarity: float | None = None, sims: dict[int, float] | None = None,
                  entries: int | None = None) -> tuple[float, ...]:
        """The confidence inputs for the i-th ranked entry (0 or 1; the margin is to the other one),
        with the semantic ones after them when the matcher has sentence vectors."""
        score, e, string, coverage, _, cos, cen, phrasing, mismatch = ranked[i]
        other = ranked[1 - i] if len(ranked) > 1 else None
        third = ranked[2][0] if len(ranked) > 2 else 0.0
        if similarity is None:
            similarity = self._similarity(e, other[1]) if other else 0.0
        oov = sum(w * w for f, w in qvec.items() if f not in self._idf)
        lexical = confidence_features(score, score - (other[0] if other else 0.0), coverage, string, phrasing, oov,
                                      cos, cen, mismatch, len(self.entries) if entries is None else entries,
                                      self._n_script[e][chinese], similarity, score - third)
        if sims is None:
            return lexical
        mine = sims.get(e, 0.0)
        rival = max((v for k, v in sims.items() if k != e), default=0.0)
        return lexical + semantic_features(mine, rival)

    def _inputs(self, text: str, exclude: int | None = None, vectors: bool = True,
                query: tuple[str, dict[str, float]] | None = None, memo: _Memo | None = None
                ) -> tuple[list[tuple], tuple[float, ...] | None, tuple[float, ...] | None] | None:
        """The ranking of `text` (best first; empty when it shares nothing with the FAQ) with the
        confidence inputs of its best entry and of the runner-up; None when the text normalises
        to nothing or the FAQ is empty. `exclude`: an entry number left out (`match`); `vectors`:
        False ranks on the lexical evidence alone, as a matcher without an encoder would; `query`:
        the text's `_query`, when it was built already; `memo`: the lexical work shared with another
        ranking of the same text (`_rank`)."""
        query = query or self._query(text[:MAX_CHARS])
        if query is None or not self.entries:
            return None
        sims = self._semantic.similarities(text[:MAX_CHARS]) if self._semantic is not None and vectors else None
        if sims is not None and exclude is not None:
            sims = {e: v for e, v in sims.items() if e != exclude}
        memo = memo if memo is not None else _Memo()
        ranked = self._rank(*query, sims, exclude, memo)
        if not ranked:
            return ranked, None, None
        chinese = IS_CJK.search(text[:MAX_CHARS]) is not None
        similarity = 0.0
        if len(ranked) > 1:
            pair = ranked[0][1], ranked[1][1]
            if pair not in memo.similarity:
                memo.similarity[pair] = self._similarity(*pair)
            similarity = memo.similarity[pair]
        entries = len(self.entries) - (exclude is not None)
        best = self._features(ranked, 0, query[1], chinese, similarity, sims, entries)
        runner = self._features(ranked, 1, query[1], chinese, similarity, sims, entries) if len(ranked) > 1 else None
        return ranked, best, runner

    async def prepare(self, text: str, inline: bool = False) -> None:
        """Get ready to `match` `text`: its sentence vector encoded in a batch with other messages', when the
        matcher has vectors (nothing to do otherwise); `inline`: on the event loop (`Encoder.prepare`)."""
        if self._semantic is not None:
            await self._semantic.prepare(text[:MAX_CHARS], inline)

    def match(self, text: str, exclude: int | None = None) -> Match | None:
        """The best entry for `text`, or None when the text normalises to nothing (or the FAQ is empty).

        Only the first ``MAX_CHARS`` characters are read (phrasings are at most 500). `exclude`: the
        number of an entry to leave out, as if the FAQ lacked it (the calibration asks what a question
        on a topic the FAQ does not cover gets; the rest of the index is unchanged).
        """
        query = self._query(text[:MAX_CHARS])
        memo = _Memo()
        inputs = self._inputs(text, exclude, query=query, memo=memo) if query is not None else None
        if inputs is None:
            return None
        ranked, best, runner = inputs
        if best is None:  # nothing in common with any phrasing
            first = 1 if exclude == 0 and len(self.entries) > 1 else 0
            if first == 0:
                return Match(self.entries[0], 0.0, self._texts[0] if self._texts else "", None, 0.0)
            qs = self._entry_qs[first]
            return Match(self.entries[first], 0.0, self._texts[qs[0]] if qs else "", None, 0.0)
        sure = confidence(best)
        if self._semantic is not None and best[-1]:
            # agreement: the entry leads in sentence-vector space, and the lexical ranking alone names it too
            lexical = self._inputs(text, exclude, vectors=False, query=query, memo=memo)
            if lexical is not None and lexical[1] is not None and lexical[0][0][1] == ranked[0][1]:
                sure = max(sure, confidence(lexical[1]))
        if self._rich[IS_CJK.search(text[:MAX_CHARS]) is not None]:
            for sentence in sentences(text[:MAX_CHARS]):  # a sentence naming the same entry (`sentences`)
                found = self._inputs(sentence, exclude, vectors=False)
                if found is not None and found[1] is not None and found[0][0][1] == ranked[0][1]:
                    sure = max(sure, confidence(found[1]))
        return Match(self.entries[ranked[0][1]], sure, self._texts[ranked[0][4]],
                     self.entries[ranked[1][1]] if runner else None, confidence(runner) if runner else 0.0)
