"""Internal notes and tags on a conversation, a default plugin: for agents and the admin, never for the buyer.

- ``GET/POST /api/v1/conversations/{id}/notes``: the notes, oldest first;
  add one. A note is not a message: no buyer-facing path (the widget, its
  history, callbacks, deliveries, events) carries its text.
- ``GET/PUT /api/v1/conversations/{id}/tags``: the conversation's tags and
  the intent an agent picked by hand (an FAQ entry or a skill), with the
  intents to choose from. A changed intent is recorded as
  ``intent.corrected``; the session ledger folds it and the intent analytics
  count it instead of what the bot recognised (`reception.metrics.intents`).

Who may: the rule of the messages API (`require_holder`): the agent who
holds the conversation now, or the admin; anyone else gets 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import AfterValidator, BaseModel, Field, field_validator

from .. import events as ev
from ..core import Reception
from ..events import Event
from ..faq.bot import in_force
from ..hookspecs import hookimpl
from ..http import ApiError, json_response, read_body
from ..models import SOME_TEXT, STRICT_BODY, clean_text, typed
from ..openapi import Routes
from .conversation_api import load, require_holder

MAX_NOTE = 2000
MAX_TAGS = 10
MAX_TAG = 20

NOTES = {"type": "object", "properties": {"conversation_id": {"type": "string"}, "notes": {"type": "array", "items": {
    "type": "object", "required": ["author", "text", "created_at"], "properties": {
        "id": {"type": "integer"}, "author": {"type": "string"}, "text": {"type": "string"},
        "created_at": {"type": "string"}}}}}}
TAGS = {"type": "object", "properties": {
    "conversation_id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
    "intent": {"type": ["string", "null"], "description": "the intent set by hand, if any"},
    "bot_intent": {"type": ["string", "null"], "description": "what the bot recognised"},
    "updated_by": {"type": ["string", "null"]}, "updated_at": {"type": ["string", "null"]},
    "intents": {"type": "array", "description": "the intents to choose from: FAQ entries, then skills",
                "items": {"type": "object", "properties": {"id": {"type": "string"}, "label": {"type": "string"}}}}}}


class NoteBody(BaseModel):
    """An internal note: for agents and the admin only."""

    model_config = STRICT_BODY
    text: Annotated[str, Field(min_length=1, max_length=MAX_NOTE, json_schema_extra={"pattern": SOME_TEXT}),
                    AfterValidator(typed)]


Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG, json_schema_extra={"pattern": SOME_TEXT})]


class TagsBody(BaseModel):
    """The conversation's tags (replacing them) and the intent picked by hand (null: the bot's stands)."""

    model_config = STRICT_BODY
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS,
                            description=f"at most {MAX_TAGS}, each 1 to {MAX_TAG} characters")
    intent: str | None = Field(default=None, max_length=200,
                               description="an FAQ entry id or a skill name of the shop (else 422 unknown_intent)")

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, value: list[str]) -> list[str]:
        tags: list[str] = []
        for raw in value:
            tag = " ".join((clean_text(raw) or "").split())
            if not tag or len(tag) > MAX_TAG:
                raise ValueError(f"each tag must be 1 to {MAX_TAG} characters")
            if tag not in tags:
                tags.append(tag)
        return tags


def _intents(reception: Reception) -> list[dict[str, str]]:
    faq = in_force(reception)
    found = [{"id": e.id, "label": e.questions[0]} for e in faq.entries]
    found += [{"id": s.name, "label": s.name} for s in reception.skills]
    return found


async def get_notes(request: web.Request) -> web.Response:
    reception, who, conv = await load(request)
    require_holder(who, conv)
    return json_response({"conversation_id": conv.id, "notes": await reception.store.notes(conv.id)})


async def post_note(request: web.Request) -> web.Response:
    reception, who, conv = await load(request)
    body = await read_body(request, NoteBody)
    require_holder(who, conv)
    now = reception.clock.now()
    tx = reception.store.transaction()
    tx.add_note(conv.id, who.agent_id or "admin", body.text, now)
    await reception.commit(tx)
    return json_response({"note": {"author": who.agent_id or "admin", "text": body.text,
                                   "created_at": now.isoformat()}})


async def _tags_view(reception: Reception, conv_id: str, bot_intent: str | None) -> dict[str, Any]:
    labels = await reception.store.labels(conv_id) or {}
    return {"conversation_id": conv_id, "tags": labels.get("tags", []), "intent": labels.get("intent"),
            "bot_intent": bot_intent, "updated_by": labels.get("updated_by"),
            "updated_at": labels.get("updated_at"), "intents": _intents(reception)}


async def get_tags(request: web.Request) -> web.Response:
    reception, who, conv = await load(request)
    require_holder(who, conv)
    return json_response(await _tags_view(reception, conv.id, conv.intent))


async def put_tags(request: web.Request) -> web.Response:
    reception, who, conv = await load(request)
    body = await read_body(request, TagsBody)
    require_holder(who, conv)
    if body.intent is not None and body.intent not in {i["id"] for i in _intents(reception)}:
        raise ApiError(422, "unknown_intent", f"intent: no FAQ entry or skill {body.intent!r}",
                       [{"field": "intent", "message": "not an FAQ entry id or a skill name"}])
    by, now = who.agent_id or "admin", reception.clock.now()
    before = (await reception.store.labels(conv.id) or {}).get("intent")
    tx = reception.store.transaction()
    tx.save_labels(conv.id, body.tags, body.intent, by, now)
    if body.intent != before:
        tx.add_event(Event.of(ev.IntentCorrected(intent=body.intent, previous=before, by=by), now, conv))
    await reception.commit(tx)
    return json_response(await _tags_view(reception, conv.id, conv.intent))


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    base = "/api/v1/conversations/{conversation_id}"
    route("GET", f"{base}/notes", get_notes, "Internal notes on a conversation (never shown to the buyer)",
          response=NOTES, auth="agent", errors=(401, 403, 404))
    route("POST", f"{base}/notes", post_note, "Add an internal note (agents and the admin only)",
          body=NoteBody, auth="agent", errors=(400, 401, 403, 404, 422))
    route("GET", f"{base}/tags", get_tags, "The conversation's tags and corrected intent, with the intents to pick",
          response=TAGS, auth="agent", errors=(401, 403, 404))
    route("PUT", f"{base}/tags", put_tags, "Set the tags and correct the intent (it feeds the intent analytics)",
          body=TagsBody, auth="agent", response=TAGS, errors=(400, 401, 403, 404, 422))
