"""The FAQ in force: read from the shop's folders, indexed, calibrated, and reloaded when they change.

A `LoadedFaq` is one reading of the folders: the entries, the file each came
from, the matcher and the per-FAQ calibration (`calibrate`). Readings are
cached by content, so a reload that changed nothing (or a sale FAQ sharing
the everyday one) costs a stat of each file. `FaqLibrary` holds the
reading in force and replaces it only with a good one: a bad edit keeps the
old FAQ answering and says why (`error`, the dashboard and the log).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

from .calibrate import Calibration, calibrate, content_key
from .diskcache import DiskCache
from .doctor import Diagnosis, diagnose
from .loader import FaqEntry, FaqError, faq_files, load_with_files
from .matcher import FaqMatcher, Match
from .semantic import Encoder
from .text import normalize

log = logging.getLogger("reception.faq")
CACHE_SIZE = 4096  # remembered matches per reading (buyers repeat questions, often by tapping buttons)
READINGS = 4  # indexed FAQs kept by content (everyday, sale, and the ones just replaced)


class CachedMatcher:
    """A `FaqMatcher` that remembers its latest answers by normalised text."""

    def __init__(self, matcher: FaqMatcher) -> None:
        self.matcher = matcher
        self._cache: OrderedDict[str, Match | None] = OrderedDict()

    async def prepare(self, text: str, inline: bool = False) -> None:
        """Get ready to `match` `text` (`FaqMatcher.prepare`), unless its answer is remembered."""
        if normalize(text) not in self._cache:
            await self.matcher.prepare(text, inline)

    def match(self, text: str) -> Match | None:
        key = normalize(text)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        result = self.matcher.match(text)
        self._cache[key] = result
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return result


@dataclass(frozen=True)
class LoadedFaq:
    """One reading of the FAQ folders."""

    entries: tuple[FaqEntry, ...]
    files: dict[str, Path]  # entry id → the file it is written in
    matcher: CachedMatcher
    calibration: Calibration
    key: str  # content digest (`calibrate.content_key`)

    def entry(self, entry_id: str) -> FaqEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    @cached_property
    def diagnosis(self) -> Diagnosis:
        """The FAQ doctor's findings, worked out once per reading."""
        return diagnose(self.entries, self.calibration)


_indexed: OrderedDict[str, tuple[CachedMatcher, Calibration]] = OrderedDict()  # by content key


def _known_vectors() -> dict[str, Any]:
    """The phrasing vectors of the readings indexed in this process: an edit (a phrasing attached to an
    entry, a new entry) encodes only the phrasings it adds."""
    known: dict[str, Any] = {}
    for matcher, _ in _indexed.values():
        known.update(matcher.matcher.phrasing_vectors)
    return known


def build(entries: Sequence[FaqEntry], files: dict[str, Path], max_wrong_share: float,
          encoder: Encoder | None = None, cache: DiskCache | None = None) -> LoadedFaq:
    """Index and calibrate `entries` (with sentence vectors when given an `encoder`), reusing the
    work done for the same content in this process, or kept in `cache` by an earlier one."""
    key = content_key(entries, max_wrong_share, encoder is not None)
    if key in _indexed:
        _indexed.move_to_end(key)
    else:
        indexed = FaqMatcher(entries, encoder, _known_vectors() if encoder is not None else None, cache=cache)
        calibration = cache.calibration(key) if cache is not None else None
        if calibration is None:
            calibration = calibrate(entries, indexed, max_wrong_share)
            if cache is not None:
                cache.keep_calibration(key, calibration)
        _indexed[key] = (CachedMatcher(indexed), calibration)
        if len(_indexed) > READINGS:
            _indexed.popitem(last=False)
    matcher, calibration = _indexed[key]
    return LoadedFaq(tuple(entries), dict(files), matcher, calibration, key)


def with_sale(entries: Sequence[FaqEntry], sale: Sequence[FaqEntry]) -> list[FaqEntry]:
    """The everyday FAQ with the sale's entries added; a sale entry replaces an everyday one of the same id."""
    replaced = {e.id for e in sale}
    return [e for e in entries if e.id not in replaced] + list(sale)


def _stamp(dirs: Sequence[Path]) -> tuple:
    """What a change to the folders changes: each FAQ file's path, size and modification time."""
    stamp = []
    for path in faq_files(dirs, missing_ok=True):
        try:
            st = path.stat()
        except OSError:
            continue
        stamp.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(stamp)


@dataclass
class FaqLibrary:
    """The FAQ readings in force (everyday and sale), replaced only by good ones."""

    dirs: tuple[Path, ...]
    sale_dirs: tuple[Path, ...]
    max_wrong_share: float
    encoder: Encoder | None = None  # sentence vectors from the ``semantic`` extra, when in use
    cache: DiskCache | None = None  # where the indexing work is kept between starts (``[bot] cache_dir``)
    # buyers' sentence vectors encoded on the event loop rather than in the encoder's thread (`Encoder.prepare`):
    # the simulator's, so that the same day gives the same figures
    encode_inline: bool = False
    everyday: LoadedFaq | None = None
    sale: LoadedFaq | None = None
    error: str | None = None  # why the last reload was refused; None once a reload succeeds
    loaded_at: datetime | None = None
    _stamp: tuple = field(default=(), repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def load(self, now: datetime) -> None:
        """Read the folders now (raises `FaqError`): used at start, where a bad FAQ stops the start."""
        stamp = _stamp(self.dirs + self.sale_dirs)
        entries, files = load_with_files(*self.dirs)
        everyday = build(entries, files, self.max_wrong_share, self.encoder, self.cache)
        sale = None
        if self.sale_dirs:
            sale_entries, sale_files = load_with_files(*self.sale_dirs)
            sale = build(with_sale(entries, sale_entries), {**files, **sale_files}, self.max_wrong_share,
                         self.encoder, self.cache)
        self.everyday, self.sale, self.error, self.loaded_at, self._stamp = everyday, sale, None, now, stamp

    def changed(self) -> bool:
        """True when a file of the folders was added, removed or written since the last reading."""
        return _stamp(self.dirs + self.sale_dirs) != self._stamp

    async def reload(self, now: datetime) -> bool:
        """Read the folders again off the event loop; keep the FAQ in force if they are bad. True if replaced."""
        async with self._lock:
            try:
                await asyncio.to_thread(self.load, now)
            except FaqError as exc:
                self.error = str(exc)
                self._stamp = _stamp(self.dirs + self.sale_dirs)  # report a bad edit once, not every poll
                log.warning("FAQ not reloaded, the previous one keeps answering: %s", exc)
                return False
        log.info("FAQ reloaded: %d entries", len(self.everyday.entries) if self.everyday else 0)
        return True
