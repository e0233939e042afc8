"""Live updates for the agent workbench, a default plugin: ``GET /api/v1/agents/{agent_id}/ws``.

Each stored event that concerns an agent (a buyer assigned to them, their
buyer wrote, a reminder, a close, a transfer, their own status) is pushed to
that agent's open sockets as a small notice, whichever instance of the shop
stored it (a live listener, `Reception.listen`); the workbench then re-reads
over the REST API, so the socket never carries data the API would not show.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from aiohttp import WSMsgType, web
from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from .. import auth, events as ev
from ..core import RECEPTION, Reception
from ..events import Event
from ..hookspecs import hookimpl
from ..http import json_response, read_body
from ..models import STRICT_BODY, Identifier
from ..openapi import WEBSOCKET_ANSWERS, Query, Routes
from ..presence import TYPING_SECONDS, presence
from ..routing.conversation_api import load, require_holder
from ..state import StateKey

STATE_KEY: StateKey[dict[str, Any]] = StateKey("live_agents")
BAD_TOKEN = 4401


def _sockets(reception: Reception) -> dict[str, set[web.WebSocketResponse]]:
    return reception.state.setdefault(STATE_KEY, {})


async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    reception = request.app[RECEPTION]
    agent = reception.router.book.get(request.match_info["agent_id"])
    token = request.query.get("token")
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    allowed = agent is not None and (auth.matches(token, agent.token_digest)
                                     or auth.matches(token, reception.settings.admin.token))
    if not allowed or agent is None:
        await ws.close(code=BAD_TOKEN, message=b"invalid token")
        return ws
    sockets = _sockets(reception).setdefault(agent.id, set())
    sockets.add(ws)
    try:
        await ws.send_json({"type": "agent", "status": agent.status})
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
            if msg.type == WSMsgType.TEXT:
                await _agent_frame(reception, agent.id, msg.data)
    finally:
        sockets.discard(ws)
    return ws


class AgentFrame(BaseModel):
    """A frame from the workbench: the agent is typing to a buyer they hold (anything else is ignored)."""

    model_config = STRICT_BODY
    type: Literal["typing"]
    conversation_id: Identifier
    typing: bool = True


async def _agent_frame(reception: Reception, agent_id: str, raw: str) -> None:
    try:
        frame = AgentFrame.model_validate(json.loads(raw))
    except (ValueError, ValidationError):
        return  # ephemeral: a bad frame is dropped, the socket stays
    conv = reception.router.active.get(frame.conversation_id)
    if conv is None or conv.status != "assigned" or conv.agent_id != agent_id:
        return
    hub = presence(reception)
    if hub.allow_typing(conv.id, "agent", frame.typing):
        await hub.tell({"kind": "typing", "to": "buyer", "channel": conv.channel, "customer_id": conv.customer_id,
                        "conversation_id": conv.id, "typing": frame.typing})


async def _tell_agent(notice: dict[str, Any], reception: Reception) -> None:
    """An ephemeral notice for an agent here (`reception.presence`): their buyer is typing, or has read."""
    if notice.get("to") != "agent" or notice.get("kind") not in ("typing", "read"):
        return
    frame: dict[str, Any] = {"type": notice["kind"], "conversation_id": notice.get("conversation_id")}
    if notice["kind"] == "typing":
        frame.update(typing=bool(notice.get("typing")), expires_in=TYPING_SECONDS)
    else:
        frame["seq"] = notice.get("seq")
    for ws in list(_sockets(reception).get(str(notice.get("agent_id")), ())):
        if not ws.closed:
            try:
                await ws.send_json(frame)
            except ConnectionError:
                pass


def _whole(value: Any) -> Any:
    """A JSON number with nothing after the point (``12.0``) is the integer JSON Schema says it is."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class ReadBody(BaseModel):
    model_config = STRICT_BODY
    seq: Annotated[int, BeforeValidator(_whole)] = Field(
        ge=0, le=2**62, description="the id (seq) of the last message the agent has seen")


async def mark_read(request: web.Request) -> web.Response:
    """The holder has read the conversation up to `seq`: the workbench's unread count for it drops."""
    reception, who, conv = await load(request)
    require_holder(who, conv)
    body = await read_body(request, ReadBody)
    if not who.admin:  # the admin looking in does not clear the agent's unread count
        tx = reception.store.transaction()
        tx.mark_read(conv.id, "agent", body.seq, reception.clock.now())
        await reception.store.commit(tx)
    state = (await reception.store.read_state([conv.id]))[conv.id]
    return json_response({"conversation_id": conv.id, **state})


def _agents_of(event: Event, reception: Reception) -> set[str]:
    payload = event.payload
    agents = {value for key in ("agent_id", "came_from", "to") if isinstance(value := getattr(payload, key, None), str)}
    conv = reception.router.active.get(event.conversation_id or "")
    if conv is not None and conv.agent_id:
        agents.add(conv.agent_id)
    return {a for a in agents if a and reception.router.book.get(a) is not None}


# Events that change who waits for a human (the queue, the offline pool): every agent who may take those
# buyers hears of them, so the workbench's "waiting" view and its count stay current.
WAITING_EVENTS = frozenset({ev.CONVERSATION_QUEUED, ev.CONVERSATION_POOLED, ev.CONVERSATION_ASSIGNED, ev.POOL_RAN,
                            ev.MESSAGE_RECEIVED, ev.CONVERSATION_CLOSED, ev.HANDOVER_REQUESTED})


def _waiting_agents(event: Event, reception: Reception) -> set[str]:
    """The agents whose waiting view `event` changes: those serving the buyer's group (all, for a pool run)."""
    if event.name not in WAITING_EVENTS:
        return set()
    book = reception.router.book
    if event.conversation_id is None:
        return set(book.agents) if event.name == ev.POOL_RAN else set()
    conv = reception.router.active.get(event.conversation_id)
    if conv is None:
        return set()
    if event.name in (ev.MESSAGE_RECEIVED, ev.HANDOVER_REQUESTED) and conv.status not in ("queued", "offline"):
        return set()  # a buyer the bot or an agent serves: nothing changes in the waiting lists
    return {a.id for a in book.agents.values() if a.serves(conv.group)}


async def _notify(event: Event, reception: Reception) -> None:
    sockets = _sockets(reception)
    if not sockets:
        return
    holders = _agents_of(event, reception)
    for agent_id in holders | _waiting_agents(event, reception):
        notice: dict[str, Any]
        if isinstance(status := event.payload, ev.AgentStatusChanged):
            notice = {"type": "agent", "status": status.to}
        else:
            notice = {"type": "changed", "conversation_id": event.conversation_id, "event": event.name}
            if agent_id not in holders:
                notice["waiting"] = True  # about a buyer waiting for the agent's groups, not one of theirs
        for ws in list(sockets.get(agent_id, ())):
            if not ws.closed:
                try:
                    await ws.send_json(notice)
                except ConnectionError:
                    pass


@hookimpl(trylast=True)
async def startup(reception: Reception) -> None:
    reception.listen(lambda event: _notify(event, reception))
    presence(reception).listen(lambda notice: _tell_agent(notice, reception))


@hookimpl(trylast=True)
async def shutdown(reception: Reception) -> None:
    for sockets in _sockets(reception).values():
        for ws in list(sockets):
            await ws.close()


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("GET", "/api/v1/agents/{agent_id}/ws", agent_socket,
          "The agent workbench's live notices (WebSocket; token in the query)",
          query=(Query("token", description="the agent's (or the admin's) token; a wrong one closes the socket "
                       "with 4401"),),
          status=101, responses=WEBSOCKET_ANSWERS, errors=(400,))
    route("POST", "/api/v1/conversations/{conversation_id}/read", mark_read,
          "The holding agent has read the conversation up to a message: its unread count drops (see docs/agent.md)",
          body=ReadBody, auth="agent", errors=(400, 401, 403, 404, 422))
