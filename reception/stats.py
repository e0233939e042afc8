"""Today's figures for the shop dashboard, a default plugin: ``GET /api/v1/stats/today`` and ``/api/v1/modes``.

A quick view of the day as it stands, in the shop's timezone. Every figure
comes from `metrics.assessment`, the one place they are defined: sessions
and handovers (sessions that asked for a human, under their first reason)
over the whole local day, the platform's rates over its window; the rates
are given however few sessions there are, with ``min_volume`` beside them
so the page can say when the platform would not rate yet.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from aiohttp import web

from . import events as ev
from .config import Settings
from .core import RECEPTION, Reception
from .hookspecs import hookimpl
from .http import json_response, require_admin
from .metrics.assessment import assess
from .openapi import Routes


def _whole_day(settings: Settings) -> Settings:
    """The shop's settings with the assessment window over the whole day and no minimum volume: today's
    sessions and handovers, defined as the assessment defines them, and rates shown however few (the page
    says when they are below the platform's minimum)."""
    cfg = settings.assessment.model_copy(update={"window": "00:00-00:00", "min_volume": 0})
    return settings.model_copy(update={"assessment": cfg})


def _in_window(settings: Settings) -> Settings:
    """The platform's window, every rate given however few sessions (``min_volume`` is reported beside it)."""
    return settings.model_copy(update={"assessment": settings.assessment.model_copy(update={"min_volume": 0})})


async def today(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    store, settings, now = reception.store, reception.settings, reception.clock.now()
    tz = ZoneInfo(settings.hours.timezone)
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)
    end = start + timedelta(days=1)
    # one definition per figure (metrics.assessment): a session is a conversation that started today, a
    # handover a session that asked for a human (counted once, under its first reason) …
    day = await assess(store, _whole_day(settings), local.date(), local.date(), now)
    by_hour = [{"hour": h, "sessions": 0, "handovers": 0} for h in range(24)]
    for row in day["by_hour"]:
        by_hour[row["hour"]].update(sessions=row["sessions"], handovers=row["human_requests"])
    # … and the platform's rates, over its window (the assessment's own figures, minimum volume aside)
    platform = await assess(store, _in_window(settings), local.date(), local.date(), now)
    firsts = await store.first_replies(start, end)
    ratings = await store.event_field_counts(ev.SATISFACTION_RATED, "label", start, end)
    router = reception.router
    return json_response({
        "date": local.date().isoformat(),
        "timezone": settings.hours.timezone,
        "sessions": day["sessions"],
        "bot_only": day["sessions"] - day["human_requests"],
        "handovers": {row["reason"]: row["sessions"] for row in day["by_reason"]},
        "human_requests": day["human_requests"],
        "assigned": sum(1 for c in router.active.values() if c.status == "assigned"),
        "queued_now": len(router.queue),
        "pool_now": sum(1 for c in router.active.values() if c.status == "offline"),
        "first_reply_2min_rate": platform["first_reply_2min_rate"],
        "avg_first_reply_seconds": round(sum(firsts) / len(firsts), 1) if firsts else None,
        "assessment": {
            "window": settings.assessment.window, "min_volume": settings.assessment.min_volume,
            **{key: platform[key] for key in (
                "sessions", "human_requests", "first_reply_2min_rate", "first_replies_in_time",
                "human_reply_3min_rate", "turns", "turns_in_time", "avg_response_seconds", "non_service_rate")},
        },
        "ratings": {label: ratings.get(label, 0) for label in ("satisfied", "neutral", "dissatisfied")},
        "by_hour": by_hour,
    })


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("GET", "/api/v1/stats/today", today, "Today's figures as they stand, for the dashboard",
          auth="admin", errors=(401,))


