"""The photos' files: one folder beside the database, a file and a thumbnail per photo, named by its id.

Ids are ``secrets.token_urlsafe(24)`` (192 random bits), so a file's name
cannot be guessed, and it is never served by name alone: the HTTP API looks
up the photo's row first (who may see it, `reception.media.api`). The folder
is ``[media] dir``, by default ``<database file>.media`` beside a SQLite
file, or ``reception-media`` beside the config on PostgreSQL; instances of a
shop on several machines point it at the same shared storage. Files are
written whole to a temporary name, flushed to disk, then renamed, so a
reader never sees half a photo, and the file is durable before the message
that names it is committed. A file whose row is gone (the buyer was
forgotten, the retention erased it: `reception.privacy` removes those) or
never came (the message failed) is removed by `sweep`, at start.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Awaitable, Callable, Iterable

from ..config import Settings
from .image import EXTENSIONS, Processed

log = logging.getLogger("reception.media")

ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
THUMB = "thumb.jpg"
# a file with no row is kept this long: its message may still be on its way to the database
GRACE = timedelta(hours=1)


def new_id() -> str:
    """A fresh photo id: 32 URL-safe characters, 192 random bits."""
    return secrets.token_urlsafe(24)


def media_dir(settings: Settings) -> Path:
    """``[media] dir``, or the default beside the database (a SQLite file) or the config (PostgreSQL)."""
    if settings.media.dir is not None:
        return settings.media.dir
    db = settings.store.path
    return db.with_name(db.name + ".media") if settings.store.kind == "sqlite" else db.with_name("reception-media")


class MediaFiles:
    """The folder of photo files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self, media_id: str) -> Path:
        if not ID.match(media_id):  # never a path from outside: ids are checked before they name a file
            raise ValueError(f"not a photo id: {media_id!r}")
        return self.root / media_id[:2]

    def path(self, media_id: str, mime: str, thumb: bool = False) -> Path:
        """Where the photo (or its thumbnail) is."""
        name = f"{media_id}.{THUMB}" if thumb else f"{media_id}.{EXTENSIONS[mime]}"
        return self._folder(media_id) / name

    def prepare(self) -> None:
        """Make the folder (private to the server's user) at start, so a wrong path fails then, not later."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def write(self, media_id: str, photo: Processed) -> None:
        """Store the photo and its thumbnail durably (blocking: run it in a thread)."""
        folder = self._folder(media_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_whole(self.path(media_id, photo.mime), photo.data)
        _write_whole(self.path(media_id, photo.mime, thumb=True), photo.thumb)
        _sync_dir(folder)

    def remove(self, media_id: str) -> None:
        folder = self._folder(media_id)
        for path in folder.glob(f"{media_id}.*"):
            path.unlink(missing_ok=True)

    def remove_all(self, media_ids: Iterable[str]) -> None:
        """Remove these photos' files (their rows were erased: `reception.privacy`)."""
        for media_id in media_ids:
            self.remove(media_id)

    def stored_ids(self) -> dict[str, float]:
        """Every photo id with a file here, and its newest file's modification time (unix seconds)."""
        found: dict[str, float] = {}
        if not self.root.is_dir():
            return found
        for folder in self.root.iterdir():
            if not folder.is_dir() or len(folder.name) != 2:
                continue
            for path in folder.iterdir():
                media_id = path.name.split(".", 1)[0]
                if ID.match(media_id) and not path.name.startswith("."):
                    found[media_id] = max(found.get(media_id, 0.0), path.stat().st_mtime)
        return found

    async def sweep(self, known: Callable[[Iterable[str]], Awaitable[set[str]]]) -> int:
        """Remove the files no row names (a message that failed after its photo was stored); how many went.

        A photo written less than `GRACE` before the newest one is kept: its message may still be on its way
        (on this instance or another one on the same folder). Ages are the files' own times against each
        other, so no clock is read.
        """
        stored = self.stored_ids()
        if not stored:
            return 0
        cutoff = max(stored.values()) - GRACE.total_seconds()
        candidates = [media_id for media_id, mtime in stored.items() if mtime < cutoff]
        kept = await known(candidates)
        gone = [media_id for media_id in candidates if media_id not in kept]
        for media_id in gone:
            self.remove(media_id)
        if gone:
            log.info("removed %d photo file(s) that no message names any more", len(gone))
        return len(gone)


def _write_whole(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - a platform without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
