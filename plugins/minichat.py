"""Example plugin: a channel for a chat platform that has no synchronous reply ("MiniChat").

The platform POSTs each buyer message to ``/api/v1/minichat/events`` and
answers nothing but 200; everything the buyer reads (the bot's answer, the
queue notice, the agent's replies, the rating request) is a call to the
platform's send API. Configure it in ``reception.toml``::

    [plugin.minichat]
    api_url = "https://api.minichat.example/v1"   # we POST {api_url}/messages
    token = "…"              # our bearer token for the platform; it signs its calls to us with the same
    max_attempts = 5         # tries of one message before `callback.failed`

It shows a whole channel: a `Channel` subclass registered with
`register_channels`, its route added in `Channel.routes` (so it is in the OpenAPI
document), a buyer message handed to ``reception.receive``, and
`Channel.pushes_replies` so the replies of the exchange reach the buyer
through `deliver` too, with the channel's own retry policy.
"""

from __future__ import annotations

import hmac
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from reception.plugin import (
    ApiError,
    Channel,
    DeliveryFailed,
    Inbound,
    Reception,
    hookimpl,
    json_response,
    plugin_settings,
    read_body,
)

NAME = "minichat"


class MiniChatSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_url: str = Field(pattern=r"^https?://\S+$")
    token: str = Field(min_length=8)
    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_seconds: float = Field(default=5.0, gt=0)  # wait after the first failure, doubled after each next one


class MiniChatEvent(BaseModel):
    """What the platform POSTs for each buyer message."""

    model_config = ConfigDict(extra="ignore")
    event_id: str = Field(min_length=1, max_length=128)  # the platform's id: a resent event is answered once
    user_id: str = Field(min_length=1, max_length=128)
    text: str = Field(min_length=1, max_length=4000)


class MiniChatChannel(Channel):
    """Buyer messages in through the events route; every message out through the platform's send API."""

    name = NAME
    pushes_replies = True  # the platform cannot carry a reply in its POST's answer

    def __init__(self, reception: Reception) -> None:
        super().__init__(reception)
        self.settings = plugin_settings(reception, NAME, MiniChatSettings)
        self.max_attempts = self.settings.max_attempts
        self._session: aiohttp.ClientSession | None = None

    @property
    def delivers_later(self) -> bool:
        return True

    def retry_after(self, attempts: int) -> float:
        return min(600.0, self.settings.retry_seconds * 2 ** (attempts - 1))

    async def deliver(self, payload: dict[str, Any]) -> None:
        body = {"to": payload["customer_id"], "text": payload["message"]["text"],
                "from": payload["message"]["sender"]}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._session.post(f"{self.settings.api_url}/messages", json=body,
                                          headers={"Authorization": f"Bearer {self.settings.token}"}) as answer:
                if answer.status >= 300:
                    raise DeliveryFailed(f"minichat answered {answer.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"minichat: {type(exc).__name__} {exc}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def routes(self, route):
        route("POST", "/api/v1/minichat/events", self.receive, "MiniChat: a buyer's message (replies are pushed)",
              body=MiniChatEvent, errors=(401,), description="Authorization: Bearer <[plugin.minichat] token>.")

    async def receive(self, request: web.Request) -> web.Response:
        presented = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(presented.encode(), self.settings.token.encode()):
            raise ApiError(401, "unauthorized", "the MiniChat token is required")
        event = await read_body(request, MiniChatEvent)
        outcome = await self.reception.receive(Inbound(channel=NAME, customer_id=event.user_id, text=event.text,
                                                       message_id=event.event_id))
        return json_response({"ok": True, "status": outcome.status})


@hookimpl
def register_channels(register):
    register(MiniChatChannel)
