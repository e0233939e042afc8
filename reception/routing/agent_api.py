"""The agent API, a default plugin: status, own conversations, the queue and the offline pool.

An agent's token opens only that agent's data; the admin token sees everything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from .. import buyers
from ..core import RECEPTION, Reception
from ..hookspecs import hookimpl
from ..http import ApiError, Caller, caller, json_response, read_body, require_admin
from ..models import STRICT_BODY, Conversation, Identifier
from ..openapi import Query, Routes
from . import work
from .actions import RoutingError
from .agents import AgentState
from .offline import run_pool
from .views import conversation_view


class StatusBody(BaseModel):
    """An agent's new state: online takes buyers, suspended (挂起) only recent contacts, offline nobody."""

    model_config = STRICT_BODY
    status: Literal["online", "suspended", "offline"]


class PoolAssignBody(BaseModel):
    """Manual assignment from the offline pool."""

    model_config = STRICT_BODY
    conversation_ids: list[Identifier] = Field(min_length=1, max_length=5000)
    agent_id: Identifier


def _who(request: web.Request) -> tuple[Reception, Caller]:
    reception = request.app[RECEPTION]
    return reception, caller(request, reception.settings.admin.token, reception.router.book.digests())


def _agent(request: web.Request) -> tuple[Reception, Caller, AgentState]:
    reception, who = _who(request)
    agent = reception.router.book.get(request.match_info["agent_id"])
    if agent is None:
        raise ApiError(404, "unknown_agent", "no agent with this id")
    if not who.may_act_for(agent.id):
        raise ApiError(403, "forbidden", "an agent can only see and change their own state")
    return reception, who, agent


async def set_status(request: web.Request) -> web.Response:
    reception, _, agent = _agent(request)
    body = await read_body(request, StatusBody)
    await work.set_status(reception, agent, body.status)
    return json_response({"agent": agent.view()})


async def get_agent(request: web.Request) -> web.Response:
    _, _, agent = _agent(request)
    return json_response({"agent": agent.view()})


async def list_agents(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    return json_response({"agents": [a.view() for a in reception.router.book.agents.values()]})


async def agent_conversations(request: web.Request) -> web.Response:
    reception, _, agent = _agent(request)
    now = reception.clock.now()
    convs = [reception.router.active[c] for c in agent.conversations if c in reception.router.active]
    convs.sort(key=lambda c: (c.awaiting_since is None, c.awaiting_since or c.assigned_at or now))
    views = [conversation_view(c, now) for c in convs]
    reads = await reception.store.read_state([v["conversation_id"] for v in views])
    for view in views:  # unread: the buyer's messages after the agent's read mark; the buyer's own mark
        view.update(reads.get(view["conversation_id"], {}))
    return json_response({"agent_id": agent.id, "conversations": await buyers.enrich(reception, views)})


def _visible(who: Caller, reception: Reception, group: str | None) -> bool:
    if who.admin:
        return True
    agent = reception.router.book.get(who.agent_id or "")
    return agent is not None and agent.serves(group)


def _limit(request: web.Request) -> int | None:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 5000:
        raise ApiError(422, "invalid_field", f"limit: expected a whole number from 1 to 5000, got {raw[:20]!r}")
    return int(raw)


def _waited(view: dict[str, Any], conv: Conversation, now: datetime) -> dict[str, Any]:
    """How long the buyer has waited for a human: since they asked (or were queued or kept by the pool)."""
    since = conv.asked_human_at or conv.queued_at or conv.pooled_at
    view["wait_seconds"] = round((now - since).total_seconds(), 1) if since else None
    return view


async def queue(request: web.Request) -> web.Response:
    reception, who = _who(request)
    now, router, limit = reception.clock.now(), reception.router, _limit(request)
    lines: dict[str | None, int] = {}
    entries: list[dict[str, Any]] = []
    total = 0
    for conv in router.queue.ordered(all_groups=True):
        lines[conv.group] = lines.get(conv.group, 0) + 1
        if _visible(who, reception, conv.group):
            total += 1
            if limit is None or len(entries) < limit:
                entries.append(_waited(conversation_view(conv, now, position=lines[conv.group]), conv, now))
    return json_response({"queue": await buyers.enrich(reception, entries), "total": total})


async def pool(request: web.Request) -> web.Response:
    reception, who = _who(request)
    now, limit = reception.clock.now(), _limit(request)
    entries = sorted((c for c in reception.router.active.values()
                      if c.status == "offline" and _visible(who, reception, c.group)),
                     key=lambda c: c.last_buyer_at or c.pooled_at or now, reverse=True)
    views = [_waited(conversation_view(c, now), c, now) for c in entries[:limit]]
    return json_response({"next_run": reception.router.next_pool_run_text(now),
                          "timezone": reception.settings.hours.timezone, "scope": reception.settings.offline_pool.scope,
                          "pool": await buyers.enrich(reception, views), "total": len(entries)})


async def pool_assign(request: web.Request) -> web.Response:
    reception, who = _who(request)
    body = await read_body(request, PoolAssignBody)
    if not who.may_act_for(body.agent_id):
        raise ApiError(403, "forbidden", "an agent can only take buyers for themselves")
    router, now = reception.router, reception.clock.now()
    agent = router.book.get(body.agent_id)
    if agent is None:
        raise ApiError(404, "unknown_agent", f"no agent {body.agent_id!r}")
    results = []
    async with router.change() as tx:
        for conversation_id in body.conversation_ids:
            conv = router.active.get(conversation_id)
            if conv is None or conv.status != "offline":
                results.append({"conversation_id": conversation_id, "assigned": False,
                                "reason": "not in the offline pool"})
                continue
            try:
                await router.accept(tx, conv, agent, now, via="pool", by=who.agent_id or "admin")
            except RoutingError as exc:
                results.append({"conversation_id": conversation_id, "assigned": False, "reason": str(exc)})
            else:
                results.append({"conversation_id": conversation_id, "assigned": True})
        failures = [{"conversation_id": r["conversation_id"], "reason": r["reason"]} for r in results
                    if not r["assigned"]]
        assigned = len(results) - len(failures)
        tx.add_pool_run(now, who.agent_id or "admin", "manual", len(results), assigned, len(results), None, failures)
    return json_response({"results": results})


async def pool_run(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    return json_response({"run": await run_pool(reception, "admin", "manual")})


async def pool_runs(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    return json_response({"runs": await reception.store.pool_runs()})


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("GET", "/api/v1/agents", list_agents, "Every agent with state and load", auth="admin",
          errors=(401,))
    route("GET", "/api/v1/agents/{agent_id}", get_agent, "One agent's state and load", auth="agent",
          errors=(401, 403, 404))
    route("POST", "/api/v1/agents/{agent_id}/status", set_status, "Go online, suspend (挂起) or go offline",
          body=StatusBody, auth="agent", errors=(400, 401, 403, 404, 422))
    route("GET", "/api/v1/agents/{agent_id}/conversations", agent_conversations,
          "The conversations assigned to the agent now, longest-waiting first", auth="agent", errors=(401, 403, 404))
    limit = Query("limit", {"type": "integer", "minimum": 1, "maximum": 5000},
                  "at most this many buyers (the first in order); `total` counts them all")
    route("GET", "/api/v1/queue", queue, "Queued buyers in serving order (an agent sees their groups), with "
          "who they are and their last message", query=(limit,), auth="agent", errors=(401, 422))
    route("GET", "/api/v1/offline-pool", pool, "The offline message pool, newest first (an agent sees their "
          "groups), with who they are and their last message", query=(limit,), auth="agent", errors=(401, 422))
    route("POST", "/api/v1/offline-pool/assign", pool_assign, "Assign pooled buyers to an agent by hand",
          body=PoolAssignBody, auth="agent", errors=(400, 401, 403, 404, 422))
    route("POST", "/api/v1/offline-pool/run", pool_run, "Run the pool's auto-assignment now", auth="admin",
          errors=(401,))
    route("GET", "/api/v1/offline-pool/runs", pool_runs, "The latest auto-assignment runs with failures",
          auth="admin", errors=(401,))
