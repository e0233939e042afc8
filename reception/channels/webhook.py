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
from ..models import BuyerMessage, Inbound, Outcome
from ..openapi import Routes
from ..pipeline import MessageConflict
from .base import Channel, DeliveryFailed

NAME = "webhook"
SIGNATURE_HEADER = auth.SIGNATURE_HEADER


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
              body=BuyerMessage, response=Outcome, auth="signature", errors=(400, 401, 409, 413, 422))

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        settings = self.reception.settings.webhook
        if settings.secret:
            try:
                auth.verify_signature(settings.secret, raw, request.headers.get(SIGNATURE_HEADER),
                                      self.reception.clock.now().timestamp(), settings.signature_tolerance_seconds,
                                      settings.require_timestamp)
            except auth.SignatureError as exc:
                raise ApiError(401, exc.code, f"{SIGNATURE_HEADER}: {exc}") from None
        body = validate(BuyerMessage, decode_json(raw))
        inbound = Inbound.model_construct(channel=NAME, **dict(body))  # validated just above
        try:
            outcome: Outcome = await self.reception.receive(inbound)
        except MessageConflict as exc:
            raise ApiError(409, "message_id_conflict", str(exc)) from None
        return json_response(outcome.public())


@hookimpl(trylast=True)
def register_channels(register: Any) -> None:
    register(WebhookChannel)
