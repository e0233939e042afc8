"""Taking a photo in: read the upload within the limit, check and clean it in a thread, store its files.

`Media` is the shop's photo service, kept on the hub (`media_of`), used by
the widget's and the agents' upload endpoints (`reception.media.api`) and
by the webhook channel. Decoding is CPU work: it runs in worker threads, at
most ``[media] workers`` photos at once, so the event loop keeps answering
and a burst of uploads cannot hold hundreds of MB each at the same time.
The result is an `Image` (the id and what the photo is) that a message
carries; the row that says whose it is goes in with that message
(`Transaction.add_message`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from ..models import Image
from ..ratelimit import RateLimit
from ..state import StateKey
from .files import MediaFiles, media_dir, new_id
from .image import ImageRefused, Limits, describe_size, process

if TYPE_CHECKING:
    from ..config import Settings
    from ..core import Reception

# what an upload may declare; the bytes decide what it is (a forged type is found when decoding)
DECLARED = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/jpg", "image/pjpeg",
            "application/octet-stream")
_CHUNK = 256 * 1024


class Media:
    """Checks, cleans and stores photos for one shop."""

    def __init__(self, settings: "Settings") -> None:
        config = self.config = settings.media
        self.files = MediaFiles(media_dir(settings))
        self.limits = Limits(config.max_bytes, config.max_pixels, config.thumb_size)
        self.buyer_photos = RateLimit(config.buyer_photos_per_minute)  # widget buyers: no credentials
        self.workers = config.workers
        self._slots: asyncio.Semaphore | None = None

    async def store(self, data: bytes) -> Image:
        """Check `data` by decoding it, store the clean photo and its thumbnail; raises `ImageRefused`."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
            photo = await asyncio.to_thread(process, data, self.limits)
            media_id = new_id()
            await asyncio.to_thread(self.files.write, media_id, photo)
        return Image(id=media_id, mime=photo.mime, width=photo.width, height=photo.height, size=len(photo.data))

    async def read_upload(self, request: web.Request) -> bytes:
        """The request's body as the photo's bytes: a declared image type (or none), at most ``max_bytes``.

        The body is streamed, so a large one is refused without being held; the app's JSON body limit does not
        apply to it.
        """
        declared = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if declared and declared not in DECLARED:
            raise ImageRefused(415, "unsupported_image_type",
                               f"Content-Type {declared} is not a photo; send image/jpeg, image/png, image/webp or "
                               "image/heic")
        return await read_limited(request, self.limits.max_bytes)


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body, or 413 as soon as it is known to be over `limit` (its Content-Length, or what was read)."""
    if request.content_length is not None and request.content_length > limit:
        raise ImageRefused(413, "image_too_large", f"the file is {describe_size(request.content_length)}; at most "
                           f"{describe_size(limit)}")
    body = bytearray()
    while chunk := await request.content.read(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise ImageRefused(413, "image_too_large", f"the file is over {describe_size(limit)}")
    return bytes(body)


MEDIA = StateKey[Media]("reception.media")


def media_of(reception: "Reception") -> Media:
    """The shop's photo service (made on first use)."""
    found = reception.state.get(MEDIA)
    if found is None:
        found = reception.state.setdefault(MEDIA, Media(reception.settings))
    return found
