"""The FAQ over HTTP, a default plugin: quick replies for agents and the admin's try-out box."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from .. import bigsale
from ..core import RECEPTION, Reception
from ..hookspecs import hookimpl
from ..http import caller, json_response, read_body, require_admin
from ..human_request import human_request_kind
from ..openapi import Query, Routes
from .bot import in_force
from .doctor import for_entry
from .loader import FaqEntry
from .text import language


def _entry_view(entry: FaqEntry) -> dict[str, object]:
    return {"id": entry.id, "question": entry.questions[0],
            "answer": {"zh": entry.answer_in("zh"), "en": entry.answer_in("en")}}


def _contains(entry: FaqEntry, keyword: str) -> bool:
    """Whether the keyword (lower-cased) is in the entry's answer (either language), phrasings or id."""
    texts = [entry.id, entry.answer_in("zh"), entry.answer_in("en"), *entry.questions]
    return any(keyword in text.lower() for text in texts)


async def entries(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    caller(request, reception.settings.admin.token, reception.router.book.digests())
    faq = in_force(reception)
    query = request.query.get("q", "").strip()[:500]
    keyword = request.query.get("keyword", "").strip().lower()[:100]
    found = [e for e in faq.entries if not keyword or _contains(e, keyword)]
    if keyword:  # entries whose answer has the word first: an agent searches for what to say
        found.sort(key=lambda e: keyword not in f"{e.answer_in('zh')}\n{e.answer_in('en')}".lower())
    if query:
        best = faq.matcher.match(query)
        if best is not None:
            first = [best.entry] + ([best.runner_up] if best.runner_up else [])
            found = [e for e in first if e in found] + [e for e in found if e not in first]
    return json_response({"entries": [_entry_view(e) for e in found[:50]]})


class TryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


async def try_out(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    body = await read_body(request, TryBody)
    faq = in_force(reception)
    lang = language(body.text)
    threshold = bigsale.answer_threshold(reception.settings, reception.clock.now(), faq.calibration.threshold(lang))
    match = faq.matcher.match(body.text)
    requested = human_request_kind(body.text)
    result: dict[str, object] = {"threshold": threshold, "entry_id": None, "question": None, "confidence": 0.0,
                                 "answer": None, "runner_up": None, "runner_up_confidence": None, "advice": None,
                                 "lang": lang,
                                 "calibration": faq.diagnosis.languages.get(lang)}
    if match is not None:
        result.update(entry_id=match.entry.id, question=match.question, confidence=round(match.confidence, 4),
                      answer=match.entry.answer_in(lang),
                      runner_up=match.runner_up.id if match.runner_up else None,
                      runner_up_confidence=round(match.runner_up_confidence, 4) if match.runner_up else None,
                      advice=for_entry(faq.diagnosis, match.entry.id))
    confident = match is not None and match.confidence >= threshold
    handover = "requested" if requested in ("explicit", "bot") else None if confident else "low_confidence"
    if handover is None and match is not None and match.entry.handover:
        handover = "faq_entry"
    result.update(would_answer=confident and handover in (None, "faq_entry"), handover=handover)
    return json_response(result)


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("GET", "/api/v1/faq/entries", entries, "FAQ entries for quick replies, best matches for q first",
          auth="agent", errors=(401,), query=(
              Query("q", description="a buyer's text: the entries that best answer it come first"),
              Query("keyword", description="only entries whose answer (either language), phrasings or id contain "
                                           "this text, case-insensitive")))
    route("POST", "/api/v1/faq/try", try_out, "What the bot would do with a text: entry, confidence, runner-up",
          body=TryBody, auth="admin", errors=(400, 401, 422))
