"""Consultation intent analytics (DOMAIN.md §4): volume and dissatisfaction per intent over a date range.

A session's intent is, in order: the intent an agent set by hand (the latest
``intent.corrected``, reception.routing.notes_api), else the intent of its first ``handover.requested``
(the FAQ entry or skill the bot recognised), else that request's reason
(``requested``, ``low_confidence``, ``angry`` … marked ``kind: "handover"``),
else the intent of its first ``bot.answered``; sessions with none are
``(none)``. Sessions are every conversation started on a day of the range
(whole local days: topics matter at any hour, not only in the assessment
window).

Per intent: ``sessions``; ``rated`` sessions; ``dissatisfied`` sessions (a
dissatisfied rating); ``dissatisfaction_rate`` = dissatisfied / rated;
``contribution_rate`` = this intent's dissatisfied sessions / all dissatisfied
sessions (the share of the shop's dissatisfaction it causes). TOP lists by
volume and by contribution. The platform allows at most 31 days per query;
longer ranges are for the shop's own analysis.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..config import Settings
from ..store.metrics import MetricsReads
from .assessment import local_slots

NONE = "(none)"


def report(rows: list[tuple[Any, ...]], first: date, last: date, top: int, now: datetime) -> dict[str, Any]:
    """The answer from the store's rows: (intent, is a handover reason, sessions, rated, dissatisfied)."""
    total_sessions = sum(r[2] for r in rows)
    total_dissatisfied = sum(r[4] for r in rows)
    intents = []
    for intent, is_reason, sessions, rated, dissatisfied in rows:
        intents.append({
            "intent": intent or NONE,
            "kind": "none" if not intent else "handover" if is_reason else "intent",
            "sessions": sessions,
            "share": round(sessions / total_sessions, 4) if total_sessions else None,
            "rated": rated,
            "dissatisfied": dissatisfied,
            "dissatisfaction_rate": round(dissatisfied / rated, 4) if rated else None,
            "contribution_rate": round(dissatisfied / total_dissatisfied, 4) if total_dissatisfied else None,
        })
    intents.sort(key=lambda i: (-i["sessions"], i["intent"]))
    by_contribution = sorted((i for i in intents if i["dissatisfied"]),
                             key=lambda i: (-i["dissatisfied"], -i["sessions"], i["intent"]))
    return {
        "from": first.isoformat(), "to": last.isoformat(), "days": (last - first).days + 1,
        "generated_at": now.isoformat(),
        "sessions": total_sessions, "dissatisfied": total_dissatisfied,
        "intents": intents,
        "top_by_volume": [i["intent"] for i in intents[:top]],
        "top_by_contribution": [i["intent"] for i in by_contribution[:top]],
    }


async def analyse(store: MetricsReads, settings: Settings, first: date, last: date, now: datetime) -> dict[str, Any]:
    """Read the sums for the local days [first, last] from `store` and build the answer."""
    slots = local_slots(first, last, "00:00-24:00", ZoneInfo(settings.hours.timezone), hourly=False)
    return report(await store.intent_sums(slots), first, last, settings.assessment.intent_top, now)
