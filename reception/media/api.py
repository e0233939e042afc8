"""The photo API, a default plugin: buyers and agents send photos; each is served only to who may see it.

- ``POST /api/v1/webchat/images``: a widget buyer (``Authorization: Bearer
  <widget token>``) sends a photo; it is a buyer message through the one
  pipeline (`Reception.receive`), so it is answered, handed over and timed
  like a text.
- ``POST /api/v1/conversations/{id}/images``: the agent who holds the
  conversation (or the admin) sends a photo to the buyer (`work.reply`).
- ``GET /api/v1/media/{id}`` and ``…/thumb``: the file, to the buyer of
  its conversation (widget token), to the agent who may read that
  conversation (the rule of the messages API, `require_holder`, or the
  buyer's current conversation, as the history shows earlier ones), and to
  the admin. Anyone else gets 404, as for an id that does not exist, so an
  id cannot be probed.

The body of an upload is the photo itself (``Content-Type: image/jpeg`` …);
`reception.media.image` decides what it is. Answers carry ``nosniff``, a
``Content-Disposition`` and a private, immutable cache policy (a photo never
changes under its id). The widget on a shop's own origin reaches these with
CORS (``[webchat] allowed_origins``); no cookie is involved.
"""

from __future__ import annotations

import math
from typing import Literal

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from .. import auth
from ..channels.webchat import NAME as WEBCHAT, WebchatChannel
from ..core import RECEPTION, Reception
from ..hookspecs import hookimpl
from ..http import ApiError, Caller, caller, json_response
from ..models import Identifier, Image, Inbound
from ..openapi import Query, Routes
from ..pipeline import MessageConflict
from ..routing.conversation_api import answer_buyer, load, require_holder
from .files import ID
from .image import EXTENSIONS, ImageRefused, heif_available
from .intake import media_of

_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)
_UPLOAD_NOTE = ("The body is the photo itself (Content-Type image/jpeg, image/png, image/webp or image/heic; the "
                "bytes decide what it is): at most [media] max_bytes (413 image_too_large); anything that does not "
                "decode as one of these is refused (415 unsupported_image_type, 422 not_an_image or invalid_image); "
                "more than [media] max_pixels decoded pixels: 422 image_too_many_pixels. The stored file is "
                "re-encoded: no EXIF (no GPS position), turned upright.")
UPLOAD = {"type": "object", "required": ["conversation_id", "status", "replies", "image"], "properties": {
    "conversation_id": {"type": "string"}, "status": {"type": "string"}, "replies": {"type": "array"},
    "handover": {"type": ["object", "null"]}, "image": {"type": "object"}}}
SENT = {"type": "object", "required": ["message"], "properties": {
    "message": {"type": "object"}, "warnings": {"type": "array"}}}
_CACHE = "private, max-age=31536000, immutable"
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)


def _refused(exc: ImageRefused) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


def _webchat(reception: Reception) -> WebchatChannel:
    channel = reception.channels.get(WEBCHAT)
    if not isinstance(channel, WebchatChannel):
        raise ApiError(404, "channel_off", "the chat widget is not enabled on this server")
    return channel


def _origin_allowed(request: web.Request) -> bool:
    """``[webchat] allowed_origins`` (empty: any page), as for the widget's session and socket."""
    allowed = request.app[RECEPTION].settings.webchat.allowed_origins
    origin = request.headers.get("Origin")
    return not allowed or origin is None or origin in allowed


def _cors(request: web.Request, response: web.StreamResponse, methods: str) -> None:
    """Let the shop's own pages (another origin) call these with a bearer token; no cookies are involved."""
    origin = request.headers.get("Origin")
    if origin and _origin_allowed(request):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = methods
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Vary"] = "Origin"


def _with_cors(request: web.Request, error: ApiError, methods: str) -> ApiError:
    holder = web.Response()
    _cors(request, holder, methods)
    error.headers.update({k: v for k, v in holder.headers.items() if k.startswith("Access-Control") or k == "Vary"})
    return error


def _buyer(reception: Reception, request: web.Request) -> str | None:
    """The widget buyer whose token the request carries, or None."""
    token = auth.bearer(request)
    channel = reception.channels.get(WEBCHAT)
    if not token or not token.startswith("wc_") or not isinstance(channel, WebchatChannel):
        return None
    return channel.customer_of(token)


# -- the buyer sends ---------------------------------------------------------------------------
async def buyer_upload(request: web.Request) -> web.Response:
    try:
        return await _buyer_upload(request)
    except ApiError as exc:
        raise _with_cors(request, exc, "POST, OPTIONS") from None


async def _buyer_upload(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    channel = _webchat(reception)
    if not _origin_allowed(request):
        raise ApiError(403, "origin_not_allowed", "this page may not embed the chat widget")
    customer_id = _buyer(reception, request)
    if customer_id is None:
        raise ApiError(401, "unauthorized", "a valid widget token is required (Authorization: Bearer <token>)")
    client_id = request.query.get("client_id")
    if client_id is not None and not _identifier(client_id):
        raise ApiError(422, "invalid_field", "client_id: 1-128 characters, no control characters")
    media = media_of(reception)
    wait = media.buyer_photos.take(customer_id, reception.clock.now())
    if wait:  # before the body is read: a flood costs neither the decoder nor the disk
        seconds = math.ceil(wait)
        raise ApiError(429, "too_many_photos", f"at most {media.config.buyer_photos_per_minute} photos a minute "
                       f"([media] buyer_photos_per_minute); try again in {seconds} s",
                       headers={"Retry-After": str(seconds)})
    image = await _upload(reception, request)
    hint = request.query.get("lang")
    lang: Literal["zh", "en"] | None = "en" if hint == "en" else "zh" if hint == "zh" else None  # else: no hint
    inbound = Inbound(channel=WEBCHAT, customer_id=customer_id, message_id=client_id, image=image,
                      lang=lang)
    try:
        outcome = await reception.receive(inbound)
    except MessageConflict as exc:
        raise ApiError(409, "message_id_conflict", str(exc)) from None
    await channel.push_all(customer_id)
    response = json_response({**outcome.public(), "image": image.view()})
    _cors(request, response, "POST, OPTIONS")
    return response


def _identifier(value: str) -> bool:
    try:
        _IDENTIFIER.validate_python(value)
    except ValidationError:
        return False
    return True


# -- an agent sends ----------------------------------------------------------------------------
async def agent_upload(request: web.Request) -> web.Response:
    reception, who, conv = await load(request)
    require_holder(who, conv)
    if conv.status == "closed":
        raise ApiError(409, "conversation_closed", "the conversation is closed")
    return await answer_buyer(reception, who, conv, "", image=await _upload(reception, request))


async def _upload(reception: Reception, request: web.Request) -> Image:
    """The request's photo, checked, re-encoded and stored; a refusal as its JSON error."""
    media = media_of(reception)
    try:
        return await media.store(await media.read_upload(request))
    except ImageRefused as exc:
        raise _refused(exc) from None


# -- serving a photo ---------------------------------------------------------------------------
_HIDDEN = ApiError(404, "image_not_found", "no photo with this id that this token may see")


async def _may_see(reception: Reception, request: web.Request, conversation_id: str, channel: str | None,
                   customer_id: str | None) -> bool:
    buyer = _buyer(reception, request)
    if buyer is not None:
        return channel == WEBCHAT and customer_id == buyer
    try:
        who: Caller = caller(request, reception.settings.admin.token, reception.router.book.digests())
    except ApiError:
        raise ApiError(401, "unauthorized", "a widget token, an agent's or the admin's bearer token is required") \
            from None
    if who.admin:
        return True
    conv = await reception.store.conversation(conversation_id)
    if conv is not None:
        live = reception.router.current(conv)
        if live.status == "assigned" and live.agent_id == who.agent_id:
            return True
    if channel is None or customer_id is None:
        return False
    held = reception.router.held_for(channel, customer_id)  # the buyer's conversation now: its history too
    return held is not None and held.status == "assigned" and held.agent_id == who.agent_id


async def _serve(request: web.Request, thumb: bool) -> web.StreamResponse:
    reception = request.app[RECEPTION]
    media_id = request.match_info["media_id"]
    record = await reception.store.media(media_id) if ID.match(media_id) else None
    if record is None:
        if auth.bearer(request) is None:
            raise ApiError(401, "unauthorized", "a widget token, an agent's or the admin's bearer token is required")
        raise _HIDDEN
    if not await _may_see(reception, request, record.conversation_id, record.channel, record.customer_id):
        raise _HIDDEN
    files = media_of(reception).files
    path = files.path(record.id, record.mime, thumb=thumb)
    if not path.is_file():
        raise ApiError(404, "image_gone", "the photo's file is no longer stored")
    mime = "image/jpeg" if thumb else record.mime
    name = f"photo-{record.id[:8]}{'-thumb' if thumb else ''}.{'jpg' if thumb else EXTENSIONS[record.mime]}"
    response = web.FileResponse(path, headers={
        "Content-Type": mime, "X-Content-Type-Options": "nosniff", "Cache-Control": _CACHE,
        "Content-Disposition": f'inline; filename="{name}"',
        "Content-Security-Policy": "default-src 'none'; sandbox", "Cross-Origin-Resource-Policy": "same-origin",
        "Referrer-Policy": "no-referrer"})
    _cors(request, response, "GET, OPTIONS")
    return response


async def photo(request: web.Request) -> web.StreamResponse:
    try:
        return await _serve(request, thumb=False)
    except ApiError as exc:
        raise _with_cors(request, exc, "GET, OPTIONS") from None


async def thumbnail(request: web.Request) -> web.StreamResponse:
    try:
        return await _serve(request, thumb=True)
    except ApiError as exc:
        raise _with_cors(request, exc, "GET, OPTIONS") from None


def _preflight(methods: str):
    async def handler(request: web.Request) -> web.Response:
        response = web.Response(status=204)
        _cors(request, response, methods)
        return response

    return handler


# -- its life ----------------------------------------------------------------------------------
@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    kinds = "JPEG, PNG, WebP" + (" or HEIC" if heif_available() else "")
    route("POST", "/api/v1/webchat/images", buyer_upload, f"A chat-widget buyer sends a photo ({kinds})",
          query=(Query("client_id", description="the widget's id for the message: a resend with the same id "
                       "is answered as the first time and stores nothing twice"),
                 Query("lang", {"type": "string", "enum": ["zh", "en"]},
                       "the page's language: a buyer who has written nothing yet is answered in it")),
          response=UPLOAD, errors=_ERRORS + (429,),
          description="Authorization: Bearer <the buyer's widget token> (POST /api/v1/webchat/session). "
          + _UPLOAD_NOTE + " More than [media] buyer_photos_per_minute from one buyer: 429 too_many_photos with "
          "Retry-After (seconds). The photo is the buyer's message: the answer is the webhook's (status, replies, "
          "handover) and the photo (id, mime, size, width, height, url, thumb_url).")
    route.preflight("/api/v1/webchat/images", _preflight("POST, OPTIONS"))
    route("POST", "/api/v1/conversations/{conversation_id}/images", agent_upload,
          f"The agent (or the admin) sends the buyer a photo ({kinds})", auth="agent", response=SENT,
          errors=_ERRORS, description=_UPLOAD_NOTE)
    for path, handler, what in (("/api/v1/media/{media_id}", photo, "A photo of a conversation"),
                                ("/api/v1/media/{media_id}/thumb", thumbnail, "A photo's thumbnail (JPEG)")):
        route("GET", path, handler, what, auth="optional", media="image/*", errors=(401, 404),
              description="To the buyer of its conversation (Authorization: Bearer <widget token>), the agent "
              "who may read the conversation, and the admin; 404 image_not_found for anyone else, as for an "
              "unknown id.")
        route.preflight(path, _preflight("GET, OPTIONS"))


@hookimpl(trylast=True)
async def startup(reception: Reception) -> None:
    media = media_of(reception)
    media.files.prepare()
    reception.lead(lambda: _sweep_once(reception), name="reception-media-sweep")


async def _sweep_once(reception: Reception) -> None:
    await media_of(reception).files.sweep(reception.store.media_known)
