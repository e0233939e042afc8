"""Unanswered questions, grouped: what buyers asked that the bot handed over for lack of confidence.

A default plugin. `suggest` groups the texts of the buyer messages handed over as
``low_confidence`` (normalised, then greedy clustering with rapidfuzz) and
leaves out those the FAQ in force answers now, so a question the owner
attached to an entry drops off the list. Each group has a representative
text, a count, examples, when it was last asked, its language and the entry
the bot finds closest now. The dashboard reads the list here and teaches the
FAQ through `learn`'s routes, registered here too; ``reception faq suggest``
prints the same list in a terminal.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, TextIO

from aiohttp import web
from rapidfuzz import fuzz, process

from .. import bigsale
from ..config import Settings
from ..core import RECEPTION, Reception
from ..hookspecs import hookimpl
from ..http import ApiError, json_response, require_admin
from ..openapi import Query, Routes
from ..state import StateKey
from ..store import make_store
from . import learn
from .bot import in_force, library_of
from .library import LoadedFaq
from .matcher import Match
from .text import language, normalize

DAYS = 7
MAX_DAYS = 90
TEXTS = 2000  # buyer texts read, newest first: bounds the work whatever the traffic
GROUPS = 100  # groups returned
EXAMPLES = 5
SIMILAR = 85  # rapidfuzz score (0..100) at which two texts are the same question
LENGTH_SHARE = 0.6  # token_set_ratio scores a text inside a longer one as 100: only between similar lengths
_MEMO: StateKey[tuple[Any, dict[str, Any]]] = StateKey("faq.unanswered_matches")


@dataclass
class _Asked:
    """One normalised text: how often and how it was written, when last, in which language, the bot's best match."""

    key: str
    lang: str
    last_seen: datetime
    texts: Counter[str] = field(default_factory=Counter)
    match: Match | None = None

    @property
    def count(self) -> int:
        return sum(self.texts.values())


def _same_question(key: str, heads: list[str]) -> int | None:
    """The index of the first group head `key` reads as the same question as, if any."""
    for head, _, index in process.extract(key, heads, scorer=fuzz.token_set_ratio, score_cutoff=SIMILAR, limit=None):
        short, long = sorted((len(key), len(head)))
        if short >= LENGTH_SHARE * long or fuzz.ratio(key, head) >= SIMILAR:
            return index
    return None


def _view(members: list[_Asked]) -> dict[str, Any]:
    head = members[0]
    texts: Counter[str] = Counter()
    for member in members:
        texts.update(member.texts)
    match = head.match
    return {
        "text": head.texts.most_common(1)[0][0],
        "count": sum(texts.values()),
        "examples": [text for text, _ in texts.most_common(EXAMPLES)],
        "last_seen": max(m.last_seen for m in members).isoformat(),
        "lang": head.lang,
        "closest": None if match is None else {"id": match.entry.id, "confidence": round(float(match.confidence), 4),
                                               "question": match.question},
    }


def suggest(asked: Iterable[tuple[str, str, datetime]], match: Callable[[str], Match | None],
            threshold: Callable[[str], float], limit: int = GROUPS) -> list[dict[str, Any]]:
    """Group `asked` ((text, lang, at), newest first) into questions, most asked first; texts that `match`
    answers at or above `threshold(lang)` are left out. O(texts × groups), in rapidfuzz's C loops."""
    by_key: dict[str, _Asked] = {}
    for text, lang, at in asked:
        key = normalize(text)
        if not key:
            continue
        item = by_key.get(key)
        if item is None:
            item = by_key[key] = _Asked(key, lang or language(text), at)
        item.texts[text] += 1
    open_questions = []
    for item in by_key.values():
        item.match = match(item.texts.most_common(1)[0][0])
        if item.match is None or item.match.confidence < threshold(item.lang):
            open_questions.append(item)
    # the most asked wording of a question heads its group; ties: the most recent
    open_questions.sort(key=lambda a: (-a.count, -a.last_seen.timestamp()))
    heads: list[str] = []
    groups: list[list[_Asked]] = []
    for item in open_questions:
        index = _same_question(item.key, heads)
        if index is None:
            heads.append(item.key)
            groups.append([item])
        else:
            groups[index].append(item)
    views = sorted((_view(members) for members in groups), key=lambda g: g["last_seen"], reverse=True)
    views.sort(key=lambda g: -g["count"])  # most asked first; ties: the most recently asked
    return views[:limit]


def threshold_for(settings: Settings, faq: LoadedFaq, now: datetime) -> Callable[[str], float]:
    """The confidence an answer needs now, per language (`bigsale.answer_threshold` over the calibration)."""
    return lambda lang: bigsale.answer_threshold(settings, now, faq.calibration.threshold(lang))


def _remembered(reception: Reception, faq: LoadedFaq) -> Callable[[str], Match | None]:
    """`faq`'s matcher, remembering its answers while that FAQ is in force (the dashboard asks every few seconds).

    It runs off the event loop, so it calls the matcher itself: `CachedMatcher`'s cache belongs to the loop's thread.
    """
    memo = reception.state.get(_MEMO)
    if memo is None or memo[0] is not faq.matcher or len(memo[1]) > 4 * TEXTS:
        memo = reception.state[_MEMO] = (faq.matcher, {})
    known: dict[str, Match | None] = memo[1]

    def match(text: str) -> Match | None:
        if text not in known:
            known[text] = faq.matcher.matcher.match(text)
        return known[text]

    return match


async def suggestions(reception: Reception, days: int = DAYS, limit: int = GROUPS) -> list[dict[str, Any]]:
    """The unanswered questions of the last `days` days (the app's clock), grouped, most asked first."""
    now = reception.clock.now()
    asked = await reception.store.low_confidence_texts(now - timedelta(days=days), TEXTS)
    faq = in_force(reception)
    return await asyncio.to_thread(suggest, asked, _remembered(reception, faq),
                                   threshold_for(reception.settings, faq, now), limit)


def render(groups: list[dict[str, Any]], days: int) -> str:
    """The groups as terminal text (``reception faq suggest``)."""
    if not groups:
        return f"No unanswered questions in the last {days} days.\n"
    total = sum(g["count"] for g in groups)
    lines = [f"Unanswered questions, last {days} days: {total} messages in {len(groups)} groups", ""]
    for g in groups:
        closest = g["closest"]
        near = f"closest: {closest['id']} ({closest['confidence']:.2f})" if closest else "closest: none"
        lines.append(f"{g['count']:>5}×  {g['text']}")
        lines.append(f"        {near} · {g['lang']} · last {g['last_seen'][:16].replace('T', ' ')} UTC")
        others = [t for t in g["examples"] if t != g["text"]]
        if others:
            lines.append("        also: " + " · ".join(others))
    return "\n".join(lines) + "\n"


async def _collect(settings: Settings, days: int, now: datetime) -> list[dict[str, Any]]:
    faq = library_of(settings)  # as the server reads it
    faq.load(now)  # FaqError: the command says why and exits 2
    reading = faq.sale if faq.sale is not None and bigsale.active(settings, now) else faq.everyday
    assert reading is not None
    store = make_store(settings.store)  # the shop's database, as `reception report` opens it
    await store.open()
    try:
        asked = await store.low_confidence_texts(now - timedelta(days=days), TEXTS)
    finally:
        await store.close()
    return suggest(asked, reading.matcher.match, threshold_for(settings, reading, now))


def run(settings: Settings, days: int, now: datetime, out: TextIO, err: TextIO) -> int:
    """``reception faq suggest``: 0 when printed, 2 for a bad --days or a missing database."""
    if not 1 <= days <= MAX_DAYS:
        print(f"reception: error: --days must be from 1 to {MAX_DAYS}", file=err)
        return 2
    if settings.store.kind == "sqlite" and not settings.store.path.is_file():
        print(f"reception: error: no database at {settings.store.path}", file=err)
        return 2
    out.write(render(asyncio.run(_collect(settings, days, now)), days))
    return 0


def _days(request: web.Request) -> int:
    raw = request.query.get("days", str(DAYS))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_DAYS:  # "³" is a digit to isdigit
        raise ApiError(422, "invalid_field", f"days must be a whole number from 1 to {MAX_DAYS}",
                       [{"field": "days", "message": f"a whole number from 1 to {MAX_DAYS}"}])
    return int(raw)


async def unanswered(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    days = _days(request)
    groups = await suggestions(reception, days)
    faq = in_force(reception)
    return json_response({
        "days": days,
        "threshold": {lang: threshold_for(reception.settings, faq, reception.clock.now())(lang)
                      for lang in ("zh", "en")},
        "groups": groups,
        # every entry, for the dashboard's "add to another entry" choice
        "entries": [{"id": e.id, "question": e.questions[0]} for e in faq.entries],
    })


_GROUP = {"type": "object", "properties": {
    "text": {"type": "string"}, "count": {"type": "integer"},
    "examples": {"type": "array", "items": {"type": "string"}},
    "last_seen": {"type": "string", "format": "date-time"}, "lang": {"type": "string"},
    "closest": {"type": ["object", "null"], "properties": {
        "id": {"type": "string"}, "confidence": {"type": "number"}, "question": {"type": "string"}}}}}
_STATUS = {"type": "object", "properties": {
    "entries": {"type": "integer"}, "loaded_at": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]},
    "folders": {"type": "array", "items": {"type": "string"}}}}
_EDITED = {"type": "object", "properties": {"entry": {"type": "object"}, "reload": _STATUS}}


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("GET", "/api/v1/faq/unanswered", unanswered,
          "What buyers asked that the bot handed over as low_confidence, grouped, most asked first (?days=7); "
          "questions the FAQ now answers are left out",
          response={"type": "object", "properties": {"days": {"type": "integer"}, "threshold": {"type": "object"},
                                                     "groups": {"type": "array", "items": _GROUP},
                                                     "entries": {"type": "array"}}},
          auth="admin", query=(Query("days", {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
                                     f"the last N days (default {DAYS})"),), errors=(401, 422))
    route("POST", "/api/v1/faq/entries/{entry_id}/phrasings", learn.add_phrasing,
          "Add a phrasing to an FAQ entry: written to its YAML file, then the FAQ is reloaded "
          "(422 and the file unchanged if the FAQ would not load)",
          body=learn.PhrasingBody, response=_EDITED, auth="admin", errors=(400, 401, 404, 409, 422))
    route("POST", "/api/v1/faq/entries", learn.create_entry,
          "Create an FAQ entry (in learned.yaml of the first FAQ folder unless file is given), then reload (201)",
          body=learn.EntryBody, response=_EDITED, auth="admin", errors=(400, 401, 409, 422), status=201)
    route("GET", "/api/v1/faq/status", learn.status,
          "The FAQ in force: entries, when it was loaded, and why the last reload was refused (error, or null)",
          response=_STATUS, auth="admin", errors=(401,))
