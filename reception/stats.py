"""Today's figures for the shop dashboard, a default plugin: ``GET /api/v1/stats/today`` and ``/api/v1/modes``.

A quick view of the day as it stands, in the shop's timezone, read from the
event log; the platform's rates come from `metrics.assessment`, the one place
they are defined.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from aiohttp import web

from . import events as ev
from .core import RECEPTION, Reception
from .hookspecs import hookimpl
from .http import json_response, require_admin
from .metrics.assessment import assess
from .openapi import Routes


async def today(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    store, tz = reception.store, ZoneInfo(reception.settings.hours.timezone)
    local = reception.clock.now().astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)
    end = start + timedelta(days=1)
    times = await store.event_times((ev.CONVERSATION_STARTED, ev.HANDOVER_REQUESTED), start, end)
    by_hour = [{"hour": h, "sessions": 0, "handovers": 0} for h in range(24)]
    for name, at in times:
        slot = by_hour[at.astimezone(tz).hour]
        slot["sessions" if name == ev.CONVERSATION_STARTED else "handovers"] += 1
    sessions = sum(s["sessions"] for s in by_hour)
    handovers = await store.event_field_counts(ev.HANDOVER_REQUESTED, "reason", start, end)
    firsts = await store.first_replies(start, end)
    assessment = await assess(store, reception.settings, local.date(), local.date(), reception.clock.now())
    ratings = await store.event_field_counts(ev.SATISFACTION_RATED, "label", start, end)
    router = reception.router
    return json_response({
        "date": local.date().isoformat(),
        "sessions": sessions,
        "bot_only": max(0, sessions - await store.distinct_conversations(ev.HANDOVER_REQUESTED, start, end)),
        "handovers": handovers,
        "assigned": sum(1 for c in router.active.values() if c.status == "assigned"),
        "queued_now": len(router.queue),
        "pool_now": sum(1 for c in router.active.values() if c.status == "offline"),
        # the platform's rate, defined once in metrics.assessment (requests never answered count as misses)
        "first_reply_2min_rate": assessment["first_reply_2min_rate"],
        "avg_first_reply_seconds": round(sum(firsts) / len(firsts), 1) if firsts else None,
        "ratings": {label: ratings.get(label, 0) for label in ("satisfied", "neutral", "dissatisfied")},
        "by_hour": by_hour,
    })


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("GET", "/api/v1/stats/today", today, "Today's figures as they stand, for the dashboard",
          auth="admin", errors=(401,))


