"""The webhook channel, a default plugin: ``POST /api/v1/webhook/messages`` and callback delivery.

A shop's integration posts each buyer message and gets the bot's reply in
the response. When ``webhook.secret`` is set, requests must be signed in
``X-Reception-Signature``: ``sha256=<hex HMAC-SHA256 of the raw body>``, or
(recommended: it resists replay) ``t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">`` with ``t`` within ``signature_tolerance_seconds`` of the
server's clock. The callbacks sent to ``webhook.callback_url`` carry both
forms (`auth.signature_headers`).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp import web

from .. import auth
from ..core import Reception
from ..hookspecs import hookimpl
from ..http import ApiError, decode_json, json_response, validate
from ..media.fetch import fetch_image
from ..media.form import FormError, parse_form
from ..media.image import ImageRefused
from ..media.intake import media_of, read_limited
from ..models import BuyerMessage, Inbound, Outcome
from ..openapi import Routes
from ..pipeline import MessageConflict
from .base import Channel, DeliveryFailed

NAME = "webhook"
SIGNATURE_HEADER = auth.SIGNATURE_HEADER
FORM_SLACK = 64 * 1024  # a form's fields and boundaries around its photo


class WebhookChannel(Channel):
    """Messages in over HTTP; later messages out to the callback URL."""

    name = NAME

    def __init__(self, reception: Reception) -> None:
        super().__init__(reception)
        self._session: aiohttp.ClientSession | None = None

    @property
    def delivers_later(self) -> bool:
        return self.reception.settings.webhook.callback_url is not None

    async def deliver(self, payload: dict[str, Any]) -> None:
        settings = self.reception.settings.webhook
        if settings.callback_url is None:
            return
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if settings.secret:  # signed when sent, so a retry carries a fresh timestamp
            headers.update(auth.signature_headers(settings.secret, body, int(self.reception.clock.now().timestamp())))
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.callback_timeout))
        try:
            async with self._session.post(settings.callback_url, data=body, headers=headers) as response:
                if response.status >= 300:
                    raise DeliveryFailed(f"callback answered {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"callback failed: {type(exc).__name__} {exc}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def routes(self, route: Routes) -> None:
        route("POST", "/api/v1/webhook/messages", self.handle,
              "A buyer's message in; the bot's reply, or where the buyer goes now, out",
              body=BuyerMessage, response=Outcome, auth="signature", errors=(400, 401, 409, 413, 415, 422),
              description="A photo comes as image_url (fetched by the server: public addresses only, [media] "
              "limits), or uploaded: the same fields as a multipart/form-data form, the photo as the file part "
              "`image` (card as JSON text); the signature covers the raw body either way. With a photo the answer "
              "adds `image` (id, mime, size, width, height, url, thumb_url); a photo that is refused: 413 "
              "image_too_large, 415 unsupported_image_type, 422 not_an_image, invalid_image, "
              "image_too_many_pixels, image_url_refused or image_fetch_failed.")

    async def handle(self, request: web.Request) -> web.Response:
        media = media_of(self.reception)
        form = request.content_type == "multipart/form-data"
        try:  # a form may carry a photo: up to [media] max_bytes; JSON stays under the app's body limit
            raw = await (read_limited(request, media.limits.max_bytes + FORM_SLACK) if form else request.read())
        except ImageRefused as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        settings = self.reception.settings.webhook
        if settings.secret:
            try:
                auth.verify_signature(settings.secret, raw, request.headers.get(SIGNATURE_HEADER),
                                      self.reception.clock.now().timestamp(), settings.signature_tolerance_seconds,
                                      settings.require_timestamp)
            except auth.SignatureError as exc:
                raise ApiError(401, exc.code, f"{SIGNATURE_HEADER}: {exc}") from None
        upload: bytes | None = None
        if form:
            fields, upload = _form(raw, request.headers.get("Content-Type", ""))
            body: BuyerMessage = validate(_WithUpload if upload is not None else BuyerMessage, fields)
            if upload is not None and body.image_url is not None:
                raise ApiError(422, "invalid_field", "image_url: give a photo or its URL, not both")
        else:
            body = validate(BuyerMessage, decode_json(raw))
        image = None
        repeat = body.message_id is not None and \
            await self.reception.store.stored_response(f"{NAME}:{body.message_id}") is not None
        if not repeat and (upload is not None or body.image_url is not None):  # a repeat is answered as before
            try:
                data = upload if upload is not None else await fetch_image(str(body.image_url), media.config)
                image = await media.store(data)
            except ImageRefused as exc:
                raise ApiError(exc.status, exc.code, exc.message) from None
        inbound = Inbound.model_construct(channel=NAME, **dict(body), image=image)  # validated just above
        try:
            outcome: Outcome = await self.reception.receive(inbound)
        except MessageConflict as exc:
            raise ApiError(409, "message_id_conflict", str(exc)) from None
        answer = outcome.public()
        if image is not None:
            answer["image"] = image.view()
        return json_response(answer)


class _WithUpload(BuyerMessage):
    """A form's message whose photo is the uploaded file: text and card may be left out."""

    def _has_image(self) -> bool:
        return True


def _form(raw: bytes, content_type: str) -> tuple[dict[str, Any], bytes | None]:
    """The form's fields as the JSON body would give them (``card`` as JSON text), and the photo's bytes."""
    try:
        parsed = parse_form(raw, content_type)
    except FormError as exc:
        raise ApiError(400, "invalid_form", str(exc)) from None
    unknown = sorted(set(parsed.files) - {"image"})
    if unknown:
        raise ApiError(422, "invalid_field", f"{unknown[0]}: only one file is taken, named image")
    fields: dict[str, Any] = dict(parsed.fields)
    if "card" in fields:
        fields["card"] = decode_json(fields["card"].encode("utf-8"))
    upload = parsed.files.get("image")
    return fields, (upload[0] if upload is not None else None)


@hookimpl(trylast=True)
def register_channels(register: Any) -> None:
    register(WebhookChannel)
