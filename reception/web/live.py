"""Live updates for the agent workbench, a default plugin: ``GET /api/v1/agents/{agent_id}/ws``.

Each stored event that concerns an agent (a buyer assigned to them, their
buyer wrote, a reminder, a close, a transfer, their own status) is pushed to
that agent's open sockets as a small notice, whichever instance of the shop
stored it (a live listener, `Reception.listen`); the workbench then re-reads
over the REST API, so the socket never carries data the API would not show.
"""

from __future__ import annotations

from typing import Any

from aiohttp import WSMsgType, web

from .. import auth
from .. import events as ev
from ..core import RECEPTION, Reception
from ..events import Event
from ..hookspecs import hookimpl
from ..openapi import WEBSOCKET_ANSWERS, Query, Routes
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
    finally:
        sockets.discard(ws)
    return ws


def _agents_of(event: Event, reception: Reception) -> set[str]:
    payload = event.payload
    agents = {value for key in ("agent_id", "came_from", "to") if isinstance(value := getattr(payload, key, None), str)}
    conv = reception.router.active.get(event.conversation_id or "")
    if conv is not None and conv.agent_id:
        agents.add(conv.agent_id)
    return {a for a in agents if a and reception.router.book.get(a) is not None}


async def _notify(event: Event, reception: Reception) -> None:
    sockets = _sockets(reception)
    if not sockets:
        return
    for agent_id in _agents_of(event, reception):
        notice: dict[str, Any]
        if isinstance(status := event.payload, ev.AgentStatusChanged):
            notice = {"type": "agent", "status": status.to}
        else:
            notice = {"type": "changed", "conversation_id": event.conversation_id, "event": event.name}
        for ws in list(sockets.get(agent_id, ())):
            if not ws.closed:
                try:
                    await ws.send_json(notice)
                except ConnectionError:
                    pass


@hookimpl(trylast=True)
async def startup(reception: Reception) -> None:
    reception.listen(lambda event: _notify(event, reception))


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
