"""The shop's HTTP API, a default plugin: health, OpenAPI, and conversation messages.

``GET /api/v1/conversations/{id}/messages`` reads a conversation (admin
token); ``POST`` to the same path lets the shop's staff answer a buyer with
the admin token until agents and routing take over that job.
"""

from __future__ import annotations

from aiohttp import web

from .core import RECEPTION, Reception
from .hooks import Refused
from .hookspecs import hookimpl
from .http import ApiError, json_response, read_body, require_admin
from .models import Conversation, Message, StaffReply
from .openapi import openapi_document


def message_view(message: Message) -> dict[str, object]:
    """A message as the API shows it."""
    view: dict[str, object] = {"sender": message.sender, "text": message.text,
                               "created_at": message.created_at.isoformat()}
    for key in ("intent", "confidence", "agent_id"):
        if getattr(message, key) is not None:
            view[key] = getattr(message, key)
    if message.card is not None:
        view["card"] = message.card.model_dump()
    return view


async def _conversation(request: web.Request) -> tuple[Reception, Conversation]:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    conversation = await reception.store.conversation(request.match_info["conversation_id"])
    if conversation is None:
        raise ApiError(404, "conversation_not_found", "no conversation with this id")
    return reception, conversation


async def get_messages(request: web.Request) -> web.Response:
    reception, conversation = await _conversation(request)
    messages = await reception.store.messages(conversation.id)
    return json_response({"conversation_id": conversation.id, "status": conversation.status,
                          "messages": [message_view(m) for m in messages]})


async def post_message(request: web.Request) -> web.Response:
    reception, conversation = await _conversation(request)
    body = await read_body(request, StaffReply)
    if conversation.status == "closed":
        raise ApiError(409, "conversation_closed", "the conversation is closed")
    message = Message(conversation_id=conversation.id, sender="agent", text=body.text,
                      created_at=reception.clock.now(), agent_id="admin")
    try:
        sent = await reception.send(conversation, message)
    except Refused as exc:
        raise ApiError(422, exc.code, str(exc)) from None
    return json_response({"message": message_view(sent)})


async def healthz(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    return json_response({"status": "ok", "time": reception.clock.now().isoformat()})


async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document())


@hookimpl(trylast=True)
def register_routes(app: web.Application, reception: Reception) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/api/v1/conversations/{conversation_id}/messages", get_messages)
    app.router.add_post("/api/v1/conversations/{conversation_id}/messages", post_message)
