"""Checking a photo by decoding it, and re-encoding it without its metadata, with a thumbnail.

Every file is opened with Pillow restricted to the accepted formats (JPEG,
PNG, WebP, and HEIC/HEIF when pillow-heif is installed), its pixel count is
checked from the header before anything is decoded (decompression bombs),
then it is decoded whole, turned upright (EXIF orientation) and written
anew: the stored file carries no EXIF (no GPS position, no camera serial),
no XMP, no text chunks. HEIC becomes JPEG, which every browser shows. A
file that is anything else is refused with an `ImageRefused` that names the
problem. Synchronous and CPU-bound: callers run it in a thread
(`reception.media.intake`).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

Mime = Literal["image/jpeg", "image/png", "image/webp"]

# Pillow's format name -> what it is stored as (HEIC becomes JPEG: browsers do not show HEIC)
_OUTPUT: dict[str, tuple[str, Mime]] = {
    "JPEG": ("JPEG", "image/jpeg"), "MPO": ("JPEG", "image/jpeg"),  # MPO: a phone's JPEG with a depth map
    "PNG": ("PNG", "image/png"), "WEBP": ("WEBP", "image/webp"), "HEIF": ("JPEG", "image/jpeg"),
}
EXTENSIONS: dict[str, str] = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
# what a refused file looked like, to say so (the first bytes): never decoded with these
_OTHER_KINDS = ((b"GIF8", "a GIF"), (b"BM", "a BMP"), (b"II*\x00", "a TIFF"), (b"MM\x00*", "a TIFF"),
                (b"%PDF", "a PDF"), (b"\x00\x00\x01\x00", "an icon"), (b"8BPS", "a Photoshop file"))
JPEG_QUALITY = 85
THUMB_QUALITY = 78


class ImageRefused(ValueError):
    """A file that is not an accepted photo: `status` (413, 415 or 422) and `code` for the HTTP answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int
    thumb_size: int


@dataclass(frozen=True)
class Processed:
    """A photo ready to store: the clean file, its thumbnail (JPEG), what it is."""

    data: bytes
    thumb: bytes
    mime: Mime
    width: int
    height: int
    source_format: str  # what was uploaded: JPEG, PNG, WEBP, HEIF


_heif: bool | None = None


def heif_available() -> bool:
    """Register pillow-heif's opener on first use (no import side effects); False when it is not installed."""
    global _heif  # Pillow's plugin registry is itself process-wide: registering once is the only sensible scope
    if _heif is None:
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            _heif = False
        else:
            register_heif_opener()
            _heif = True
    return _heif


def accepted_formats() -> list[str]:
    return ["JPEG", "PNG", "WEBP", *(["HEIF"] if heif_available() else [])]


def describe_size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _kind_of(data: bytes) -> str | None:
    for magic, name in _OTHER_KINDS:
        if data.startswith(magic):
            return name
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        return "an SVG drawing"
    if head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "an AVIF"
    if data[4:8] == b"ftyp" and not heif_available():
        return "a HEIC (this server cannot read HEIC)"
    return None


_ACCEPTED_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))


def _refuse_unknown(data: bytes) -> ImageRefused:
    wanted = "a JPEG, PNG, WebP" + (" or HEIC" if heif_available() else "") + " photo"
    damaged = next((name for magic, name in _ACCEPTED_MAGIC if data.startswith(magic)), None)
    if damaged is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        damaged = "WebP"
    if damaged is not None:
        return ImageRefused(422, "invalid_image", f"the {damaged} image cannot be decoded: it is damaged or "
                            "truncated")
    kind = _kind_of(data)
    if kind is not None:
        return ImageRefused(415, "unsupported_image_type", f"the file is {kind}; send {wanted}")
    return ImageRefused(422, "not_an_image", f"the file is not an image that can be read; send {wanted}")


def _open(data: bytes, limits: Limits) -> Image.Image:
    """Open `data` with the accepted formats only and check its size from the header (nothing decoded yet)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=accepted_formats())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(422, "image_too_many_pixels",
                           f"the image has too many pixels; at most {limits.max_pixels:,}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise _refuse_unknown(data) from None
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRefused(422, "not_an_image", "the image has no pixels")
    if width * height > limits.max_pixels:
        raise ImageRefused(422, "image_too_many_pixels",
                           f"the image is {width}×{height} ({width * height:,} pixels); at most "
                           f"{limits.max_pixels:,}")
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Decode the first frame, apply its EXIF orientation, and keep a mode the output format can write."""
    image.seek(0)  # an animated WebP or PNG: its first frame
    image.load()
    upright = ImageOps.exif_transpose(image) or image
    if upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
    return upright


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    clean = image.copy()
    # nothing of the original's metadata (EXIF with its GPS position, XMP, comments, PNG text chunks) but the
    # colour profile, which says how to show the colours, and a palette's transparent index
    icc = image.info.get("icc_profile")
    clean.info = {k: v for k, v in image.info.items() if k == "transparency"}
    extra = {"icc_profile": icc} if isinstance(icc, bytes) and icc else {}
    if fmt == "JPEG":
        if clean.mode not in ("L", "RGB"):
            clean = _flatten(clean)
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=True, **extra)
    elif fmt == "PNG":
        clean.save(out, "PNG", compress_level=6, **extra)
    else:
        if clean.mode not in ("RGB", "RGBA"):
            clean = clean.convert("RGBA" if "A" in clean.getbands() or clean.mode == "P" else "RGB")
        clean.save(out, "WEBP", quality=JPEG_QUALITY, method=4, **extra)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        base = Image.new("RGB", rgba.size, (255, 255, 255))
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return image.convert("RGB")


def _thumbnail(image: Image.Image, size: int) -> bytes:
    thumb = _flatten(image) if image.mode != "RGB" else image.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=THUMB_QUALITY)
    return out.getvalue()


def process(data: bytes, limits: Limits) -> Processed:
    """Check `data` by decoding it and return the clean photo and its thumbnail; raises `ImageRefused`."""
    if len(data) > limits.max_bytes:
        raise ImageRefused(413, "image_too_large",
                           f"the file is {describe_size(len(data))}; at most {describe_size(limits.max_bytes)}")
    if not data:
        raise ImageRefused(422, "not_an_image", "the file is empty")
    image = _open(data, limits)
    source = image.format or ""
    if source not in _OUTPUT:  # pragma: no cover - `formats=` lets only these through
        raise _refuse_unknown(data)
    fmt, mime = _OUTPUT[source]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upright = _upright(image)
            encoded = _encode(upright, fmt)
            thumb = _thumbnail(upright, limits.thumb_size)
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(422, "image_too_many_pixels",
                           f"the image has too many pixels; at most {limits.max_pixels:,}") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise ImageRefused(422, "invalid_image", f"the {source} image cannot be decoded: it is damaged or "
                           f"truncated ({type(exc).__name__})") from None
    finally:
        image.close()
    return Processed(encoded, thumb, mime, upright.width, upright.height, source)
