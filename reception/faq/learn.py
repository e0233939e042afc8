"""The FAQ taught from the dashboard: a buyer's question added to an entry, a new entry, the FAQ's status.

Each edit is written to the shop's YAML files (`editor`: comments and order
kept, replaced atomically) and the FAQ is reloaded at once, so the next buyer
gets the answer with no restart. If the reload is refused (the edit, or a bad
hand edit of another file, leaves an FAQ that does not load) the file is put
back as it was and the caller gets ``422`` with the reason. Edits are made one
at a time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ..core import RECEPTION, Reception
from ..http import ApiError, json_response, read_body, require_admin, validate
from ..models import SOME_TEXT
from ..state import StateKey
from . import editor
from .bot import in_force, library
from .loader import EntryId, FaqEntry
from .text import normalize

LEARNED_FILE = "learned.yaml"
_LOCK: StateKey[asyncio.Lock] = StateKey("faq.edit_lock")

# a buyer's text as a phrasing: one line (the matcher reads runs of whitespace as one space anyway)
# (checked as sent, so the document's limits are the server's: at most 500 characters, not only blanks)
OneLine = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=SOME_TEXT),
                    AfterValidator(lambda text: " ".join(text.split()))]


class PhrasingBody(BaseModel):
    """A phrasing to add to an entry."""

    model_config = ConfigDict(extra="forbid")
    text: OneLine


class AnswerBody(BaseModel):
    """A new entry's answer: Chinese, English or both (at least one)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [{"required": ["zh"]}, {"required": ["en"]}]})
    zh: str = Field(default=None, min_length=1, max_length=4000)  # type: ignore[assignment]
    en: str = Field(default=None, min_length=1, max_length=4000)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_language(self) -> "AnswerBody":
        if self.zh is None and self.en is None:
            raise ValueError("the answer needs zh or en")
        return self


class EntryBody(BaseModel):
    """A new entry; `file` is a file name in the first FAQ folder (default ``learned.yaml``)."""

    model_config = ConfigDict(extra="forbid")
    id: EntryId
    questions: list[OneLine] = Field(min_length=1, max_length=200)
    answer: AnswerBody
    file: str | None = Field(default=None, max_length=100, pattern=r"^[\w\-][\w\-.]*\.ya?ml$")


def entry_view(entry: FaqEntry, path: Path | None) -> dict[str, Any]:
    """An entry as the API shows it, with the file it is written in."""
    return {"id": entry.id, "questions": list(entry.questions),
            "answer": {"zh": entry.answer_in("zh"), "en": entry.answer_in("en")},
            "file": str(path) if path else None}


def status_view(reception: Reception) -> dict[str, Any]:
    """The FAQ in force: entries, when it was read, and why the last reload was refused (or None)."""
    faq = library(reception)
    return {"entries": len(in_force(reception).entries),
            "loaded_at": faq.loaded_at.isoformat() if faq.loaded_at else None,
            "error": faq.error, "folders": [str(d) for d in faq.dirs]}


def _entries(reception: Reception) -> list[FaqEntry]:
    """Every entry of the readings in force (everyday and sale)."""
    faq = library(reception)
    return [e for reading in (faq.everyday, faq.sale) if reading is not None for e in reading.entries]


def _owner_of(reception: Reception, texts: list[str]) -> tuple[str, str] | None:
    """(text, entry id) of the first of `texts` that already is a phrasing of an entry."""
    known = {normalize(q): e.id for e in _entries(reception) for q in e.questions}
    return next(((t, known[normalize(t)]) for t in texts if normalize(t) in known), None)


def _lock(reception: Reception) -> asyncio.Lock:
    return reception.state.setdefault(_LOCK, asyncio.Lock())


async def _apply(reception: Reception, path: Path, edit: Any, *args: Any) -> dict[str, Any]:
    """Run the file `edit`, reload the FAQ, and put the file back if the reload is refused."""
    try:
        previous = await asyncio.to_thread(edit, path, *args)
    except (editor.EditError, OSError) as exc:
        raise ApiError(422, "faq_refused", str(exc)) from None
    faq = library(reception)
    if not await faq.reload(reception.clock.now()):
        reason = faq.error or "the FAQ did not load"
        await asyncio.to_thread(editor.restore, path, previous)
        await faq.reload(reception.clock.now())  # clears the error unless another file is bad too
        raise ApiError(422, "faq_refused", f"not saved, the FAQ would not load: {reason}")
    return {"reloaded": True, **status_view(reception)}


async def add_phrasing(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    entry_id = request.match_info["entry_id"]
    body = await read_body(request, PhrasingBody)
    async with _lock(reception):
        path = in_force(reception).files.get(entry_id)
        if path is None:
            raise ApiError(404, "unknown_entry", f"there is no FAQ entry {entry_id!r}")
        if (owner := _owner_of(reception, [body.text])) is not None:
            raise ApiError(409, "duplicate_phrasing", f"{owner[0]!r} is already a phrasing of {owner[1]!r}")
        reload = await _apply(reception, path, editor.add_phrasing, entry_id, body.text)
    entry = in_force(reception).entry(entry_id)
    assert entry is not None  # just reloaded with it
    return json_response({"entry": entry_view(entry, path), "reload": reload})


async def create_entry(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    body = await read_body(request, EntryBody)
    entry = validate(FaqEntry, {"id": body.id, "questions": body.questions,
                                "answer": body.answer.model_dump(exclude_none=True)})
    folders = library(reception).dirs
    if not folders:
        raise ApiError(409, "no_faq_folder", "the shop has no FAQ folder to write to ([faq] in reception.toml)")
    path = Path(folders[0]) / (body.file or LEARNED_FILE)
    async with _lock(reception):
        if any(e.id == entry.id for e in _entries(reception)):
            raise ApiError(409, "duplicate_id", f"there already is an FAQ entry {entry.id!r}")
        if (owner := _owner_of(reception, entry.questions)) is not None:
            raise ApiError(409, "duplicate_phrasing", f"{owner[0]!r} is already a phrasing of {owner[1]!r}")
        row = entry.model_dump(mode="json", include={"id", "questions", "answer"}, exclude_none=True)
        reload = await _apply(reception, path, editor.add_entry, row)
    return json_response({"entry": entry_view(entry, path), "reload": reload}, status=201)


async def status(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    return json_response(status_view(reception))
