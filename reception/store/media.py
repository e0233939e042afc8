"""What the store reads about photos (``media``, migration 8): one file's record, and which ids exist.

The rows are written with their message (`Transaction.add_message`); erasure deletes them with the
buyer's messages (`privacy.py`), and `reception.media.files` then removes the files no row names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable, Iterable


@dataclass(frozen=True)
class MediaRecord:
    """A stored photo and the conversation it belongs to (None when that conversation is gone)."""

    id: str
    conversation_id: str
    sender: str
    uploader: str
    mime: str
    size: int
    width: int
    height: int
    created_at: datetime
    channel: str | None
    customer_id: str | None


class MediaReads:
    """Reads of the ``media`` table; mixed into `Store`, whose back-end runs them (`_rows`)."""

    _rows: Callable[..., Awaitable[list[dict[str, Any]]]]  # the back-end's (`Store._rows`)

    async def media(self, media_id: str) -> MediaRecord | None:
        """The photo `media_id` with its conversation's channel and buyer, or None."""
        rows = await self._rows(
            "SELECT m.id, m.conversation_id, m.sender, m.uploader, m.mime, m.size, m.width, m.height, m.created_at,"
            " c.channel, c.customer_id FROM media m LEFT JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.id=?", (media_id,))
        if not rows:
            return None
        row = dict(rows[0])
        row["created_at"] = datetime.fromisoformat(row["created_at"])
        return MediaRecord(**row)

    async def media_known(self, ids: Iterable[str]) -> set[str]:
        """Those of `ids` that have a row (the others are files nobody may see: to be removed)."""
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(row["id"] for row in await self._rows(f"SELECT id FROM media WHERE id IN ({marks})", chunk))
        return found
