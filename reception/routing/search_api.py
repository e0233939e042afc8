"""Conversation search, a default plugin: agents find the conversations they served, the admin any.

``GET /api/v1/search/conversations`` with any of ``buyer`` (part of the
buyer's id or channel name, or their nickname such as 买家·7Q2K), ``text``
(part of a message, or of an internal note where the caller may read
notes: the admin, or the agent holding the buyer now), ``order`` (an
order number: in a card, a text, or among the buyer's orders), ``from`` / ``to`` (local dates of the shop,
inclusive: the conversation was active on one of those days) and ``limit``
(1-100, 20 by default). The query is validated by `SearchQuery`: a bad date
or limit is a 422 naming the field. An agent's token searches only the
conversations that agent was ever assigned; the admin's, all of them.
Answers are the conversation views of the agent API, with the buyer's
details and, for a text or order search, up to three matching messages;
``truncated`` says there were more than ``limit``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import buyers
from ..core import RECEPTION, Reception
from ..hookspecs import hookimpl
from ..http import ApiError, caller, json_response, validate
from ..openapi import Query, Routes
from ..store import codec
from ..store.notes import Search
from .views import conversation_view

MAX_LIMIT = 100
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NICKNAME = re.compile(r"^(?:买家|buyer)?\s*[·・.\-]?\s*([2-9a-hj-np-z]{4})$", re.IGNORECASE)


class SearchQuery(BaseModel):
    """The query parameters of a conversation search; at least one of them narrows it, none lists the latest."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    buyer: str | None = Field(default=None, min_length=1, max_length=100)
    text: str | None = Field(default=None, min_length=1, max_length=200)
    order: str | None = Field(default=None, min_length=1, max_length=64)
    from_: date | None = Field(default=None, alias="from", description="YYYY-MM-DD, the shop's local date")
    to: date | None = Field(default=None, description="YYYY-MM-DD, inclusive")
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT)

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        if isinstance(value, str) and not _DATE.match(value):
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value[:20]!r}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "SearchQuery":
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("from must not be after to")
        return self


def _parse(request: web.Request) -> SearchQuery:
    return validate(SearchQuery, {key: value.strip() for key, value in request.query.items()})


def _utc(day: date, zone: ZoneInfo) -> str:
    return codec.ts(datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC")))


async def _nickname_matches(reception: Reception, agent_id: str | None, text: str) -> tuple[tuple[str, str], ...]:
    match = _NICKNAME.match(text.strip())
    if match is None:
        return ()
    wanted = match.group(1).upper()
    return tuple(key for key in await reception.store.recent_buyers(agent_id) if buyers.nickname(*key) == wanted)


async def search(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    who = caller(request, reception.settings.admin.token, reception.router.book.digests())
    query = _parse(request)
    agent_id = None if who.admin else who.agent_id
    if not who.admin and agent_id is None:
        raise ApiError(403, "forbidden", "an agent's or the admin's token is required")
    zone = ZoneInfo(reception.settings.hours.timezone)
    found = await reception.store.search_conversations(Search(
        agent_id=agent_id, buyer=query.buyer,
        buyers=await _nickname_matches(reception, agent_id, query.buyer) if query.buyer else (),
        text=query.text, order=query.order,
        active_from=_utc(query.from_, zone) if query.from_ else None,
        active_before=_utc(query.to + timedelta(days=1), zone) if query.to else None,
        limit=query.limit + 1))
    truncated, found = len(found) > query.limit, found[:query.limit]
    now = reception.clock.now()
    views = await buyers.enrich(reception, [conversation_view(reception.router.current(c), now) for c in found])
    for view in views:
        view["mine"] = who.admin or (view["status"] == "assigned" and view["agent_id"] == who.agent_id)
    needle = query.text or query.order
    # notes only where the caller may read them: the admin everywhere, an agent on the buyers they hold now
    matches = await reception.store.matching_messages(
        [v["conversation_id"] for v in views], needle,
        notes_of=[v["conversation_id"] for v in views if v["mine"]] if query.text else ()) if needle else {}
    for view in views:
        view["matches"] = [{"sender": m["sender"], "text": m["text"], "created_at": m["created_at"]}
                           for m in matches.get(view["conversation_id"], [])]
    return json_response({"conversations": views, "truncated": truncated, "limit": query.limit,
                          "timezone": reception.settings.hours.timezone})


RESULT: dict[str, Any] = {"type": "object", "properties": {
    "conversations": {"type": "array", "items": {"type": "object", "description": (
        "a conversation view (as GET /api/v1/agents/{agent_id}/conversations) with `buyer`, `last_message`, "
        "`matches` (up to 3 messages containing the text or order number, and for a text the notes the caller may "
        "read, sender \"note\") and `mine` (the caller holds it now)")}},
    "truncated": {"type": "boolean"}, "limit": {"type": "integer"}, "timezone": {"type": "string"}}}


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("GET", "/api/v1/search/conversations", search,
          "Search conversations by buyer, text, order number and date (agents: their own; the admin: all)",
          auth="agent", response=RESULT, errors=(401, 403, 422), query=(
              Query("buyer", description="part of the buyer's id or name, or their nickname (买家·7Q2K)"),
              Query("text", description="part of a message's text or of an internal note's"),
              Query("order", description="an order number"),
              Query("from", {"type": "string", "format": "date"}, "first local day (YYYY-MM-DD)"),
              Query("to", {"type": "string", "format": "date"},
                    "last local day, inclusive (YYYY-MM-DD; not before from, else 422)"),
              Query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20},
                    "at most this many conversations (1-100)")))
