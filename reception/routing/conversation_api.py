"""The conversation API, a default plugin: read, reply, close, transfer, accept, and the buyer's history.

Each call needs the bearer token of the agent who holds the conversation, or
the admin token; an agent cannot read or act on another agent's buyers.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ..core import RECEPTION, Reception
from ..hooks import Refused
from ..hookspecs import hookimpl
from ..http import ApiError, Caller, caller, json_response, read_body
from ..models import MAX_TEXT, SOME_TEXT, STRICT_BODY, Conversation, Identifier, Image, typed
from ..openapi import Routes
from . import work
from .actions import RoutingError
from .views import conversation_view, message_view

MESSAGES = {"type": "object", "properties": {
    "conversation_id": {"type": "string"}, "status": {"type": "string"},
    "messages": {"type": "array", "items": {"type": "object", "required": ["sender", "text", "created_at"]}}}}


class ReplyBody(BaseModel):
    """An agent's (or the shop admin's) message to the buyer."""

    model_config = STRICT_BODY
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT, json_schema_extra={"pattern": SOME_TEXT}),
                    AfterValidator(typed)]


class TransferBody(BaseModel):
    """Where to move the conversation: one agent, or one group."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"oneOf": [
        {"required": ["agent_id"], "properties": {"agent_id": {"type": "string"}}},
        {"required": ["group"], "properties": {"group": {"type": "string"}}}]})
    agent_id: Identifier | None = None
    group: Identifier | None = Field(default=None, description="a group of the config (else 422 unknown_group)")

    @model_validator(mode="after")
    def _exactly_one(self) -> "TransferBody":
        if (self.agent_id is None) == (self.group is None):
            raise ValueError("give exactly one of agent_id or group")
        return self


class AcceptBody(BaseModel):
    """Who takes the conversation; an agent's own token needs no body, the admin names the agent."""

    model_config = STRICT_BODY
    agent_id: Identifier | None = Field(default=None, description="required when the admin calls (else 422)")


async def load(request: web.Request) -> tuple[Reception, Caller, Conversation]:
    """The reception, the caller and the conversation named in the path (the router's live copy)."""
    reception = request.app[RECEPTION]
    who = caller(request, reception.settings.admin.token, reception.router.book.digests())
    conv = await reception.store.conversation(request.match_info["conversation_id"])
    if conv is None:
        raise ApiError(404, "conversation_not_found", "no conversation with this id")
    return reception, who, reception.router.current(conv)


def require_holder(who: Caller, conv: Conversation) -> None:
    """Only the agent who holds the conversation now, or the admin."""
    if who.admin:
        return
    if conv.status != "assigned" or conv.agent_id != who.agent_id:
        raise ApiError(403, "not_your_conversation", "this conversation is not assigned to you")


async def get_messages(request: web.Request) -> web.Response:
    reception, who, conv = await load(request)
    require_holder(who, conv)
    messages = await reception.store.messages(conv.id)
    return json_response({"conversation_id": conv.id, "status": conv.status,
                          "messages": [message_view(m) for m in messages]})


async def post_message(request: web.Request) -> web.Response:
    reception, who, conv = await load(request)
    body = await read_body(request, ReplyBody)
    require_holder(who, conv)
    return await answer_buyer(reception, who, conv, body.text)


async def answer_buyer(reception: Reception, who: Caller, conv: Conversation, text: str,
                       image: Image | None = None) -> web.Response:
    """The holder (or the admin) writes to the buyer (`text`, or a stored photo `image`): the API's answer,
    with a refusal (compliance) or a routing change meanwhile (the buyer moved) as its JSON error."""
    try:
        message = await work.reply(reception, conv, who.agent_id or "admin", text, image=image,
                                   check=lambda live: require_holder(who, live))
    except Refused as exc:
        raise ApiError(422, exc.code, str(exc)) from None
    except RoutingError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from None
    return json_response({"message": message_view(message), "warnings": message.warnings})


async def _act(request: web.Request, action: str) -> web.Response:
    """Transfer or accept, decided under the router's lock."""
    reception, who, conv = await load(request)
    body: Any = None
    if action == "transfer":
        body = await read_body(request, TransferBody)
    elif action == "accept" and request.can_read_body:
        body = await read_body(request, AcceptBody)
    router, now = reception.router, reception.clock.now()
    async with router.change() as tx:
        conv = router.current(conv)
        try:
            if action == "transfer":
                if not who.admin and not (conv.status == "assigned" and conv.agent_id == who.agent_id):
                    raise ApiError(403, "not_your_conversation", "this conversation is not assigned to you")
                if conv.status not in ("assigned", "queued", "offline"):
                    raise ApiError(409, "not_with_humans", "only conversations with the humans can be transferred")
                await router.transfer(tx, conv, now, by=who.agent_id or "admin", agent_id=body.agent_id,
                                      group=body.group)
            else:
                agent_id = who.agent_id if not who.admin else (body.agent_id if body else None)
                if agent_id is None:
                    raise ApiError(422, "invalid_field", "agent_id: the admin must name the agent")
                if not who.admin and body is not None and body.agent_id not in (None, who.agent_id):
                    raise ApiError(403, "forbidden", "an agent can only accept for themselves")
                agent = router.book.get(agent_id)
                if agent is None:
                    raise ApiError(404, "unknown_agent", f"no agent {agent_id!r}")
                if not who.admin and not agent.serves(conv.group):
                    raise ApiError(403, "not_your_group", f"the buyer waits for group {conv.group!r}")
                await router.accept(tx, conv, agent, now, via="accept" if conv.status == "queued" else "pool",
                                    by=who.agent_id or "admin")
                await router.drain(tx, now)
        except RoutingError as exc:  # refused before anything changed
            raise ApiError(exc.status, exc.code, str(exc)) from None
    return json_response({"conversation": conversation_view(router.current(conv), now)})


async def close(request: web.Request) -> web.Response:
    reception, who, conv = await load(request)
    try:
        conv = await work.close(reception, conv, who.agent_id or "admin", check=lambda live: require_holder(who, live))
    except RoutingError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from None
    return json_response({"conversation": conversation_view(conv, reception.clock.now())})


async def transfer(request: web.Request) -> web.Response:
    return await _act(request, "transfer")


async def accept(request: web.Request) -> web.Response:
    return await _act(request, "accept")


async def history(request: web.Request) -> web.Response:
    reception, who, conv = await load(request)
    require_holder(who, conv)
    earlier = [c for c in await reception.store.conversations(customer_id=conv.customer_id, limit=21)
               if c.channel == conv.channel and c.id != conv.id][:20]
    now = reception.clock.now()
    return json_response({"customer_id": conv.customer_id, "conversations": [
        {**conversation_view(c, now), "messages": [message_view(m) for m in await reception.store.messages(c.id)]}
        for c in earlier]})


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    base = "/api/v1/conversations/{conversation_id}"
    route("GET", f"{base}/messages", get_messages, "The messages of a conversation, oldest first",
          response=MESSAGES, auth="agent", errors=(401, 403, 404))
    route("POST", f"{base}/messages", post_message, "The agent (or the admin) replies to the buyer",
          body=ReplyBody, auth="agent", errors=(400, 401, 403, 404, 409, 422))
    route("POST", f"{base}/close", close, "Close the conversation; the buyer is asked for a rating",
          auth="agent", errors=(401, 403, 404, 409))
    route("POST", f"{base}/transfer", transfer, "Transfer to another agent or group",
          body=TransferBody, auth="agent", errors=(400, 401, 403, 404, 409, 422))
    route("POST", f"{base}/accept", accept, "An agent takes a queued or pooled buyer",
          body=AcceptBody, auth="agent", errors=(401, 403, 404, 409, 422))
    route("GET", f"{base}/history", history, "The buyer's earlier conversations on this channel",
          auth="agent", errors=(401, 403, 404))
