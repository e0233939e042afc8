"""Alerts, a default plugin: at three minutes past every hour the previous hour's figures meet their limits.

The limits are ``[alerts]`` (``[big_sale] alerts`` while a sale is on). A
figure past its limit, over at least ``min_requests`` human requests, is
recorded as an ``alert.raised`` event and passed to the `alert` hook; the
default implementation logs it and POSTs it to ``[alerts] webhook_url``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from .. import auth, bigsale, events as ev
from ..config import Settings
from ..core import Reception
from ..events import Event
from ..hooks import notify
from ..hookspecs import hookimpl
from ..loop import forever
from .assessment import assess

log = logging.getLogger("reception.alerts")
RULES = (("first_reply_2min_rate", "first_reply_2min_min", "below"),
         ("human_reply_3min_rate", "human_reply_3min_min", "below"),
         ("non_service_rate", "non_service_max", "above"))
DELAY = timedelta(minutes=3)  # the hour's last requests have had their 2 and 3 minutes


def limits(settings: Settings, now: datetime) -> dict[str, float | None]:
    """The limit of each rule in force now."""
    found = {key: getattr(settings.alerts, key) for _, key, _ in RULES}
    sale = settings.big_sale.alerts
    if sale is not None and bigsale.active(settings, now):
        found.update({key: value for key, value in sale.model_dump().items() if value is not None})
    return found


async def check(reception: Reception, now: datetime) -> list[dict[str, Any]]:
    """The alerts for the local hour before `now` (none when it had too few human requests)."""
    settings = reception.settings
    tz = ZoneInfo(settings.hours.timezone)
    hour = (now.astimezone(tz) - DELAY).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    report = await assess(reception.store, settings, hour.date(), hour.date(), now)
    cell = next((h for h in report["by_hour"] if h["hour"] == hour.hour), None)
    if cell is None or cell["human_requests"] < settings.alerts.min_requests:
        return []
    found = []
    for metric, key, direction in RULES:
        value, limit = cell.get(metric), limits(settings, now)[key]
        if value is None or limit is None:
            continue
        if (value < limit) if direction == "below" else (value > limit):
            found.append({"metric": metric, "value": value, "limit": limit, "direction": direction,
                          "date": hour.date().isoformat(), "hour": hour.hour, "requests": cell["human_requests"]})
    return found


def _next_check(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    slot = local.replace(minute=0, second=0, microsecond=0) + DELAY
    return slot if slot > local else slot + timedelta(hours=1)


def make_step(reception: Reception):
    tz = ZoneInfo(reception.settings.hours.timezone)
    state: dict[str, datetime | None] = {"due": None}

    async def step() -> datetime | None:
        now, due = reception.clock.now(), state["due"]
        if due is None or now < due:
            state["due"] = due or _next_check(now, tz)
            return state["due"]
        # the hour this check was due for, even when the clock is already past the next one (a stalled
        # process, a check that took long): the next due time follows this one, so no hour is skipped
        found = await check(reception, due)
        if found:
            tx = reception.store.transaction()
            for item in found:
                tx.add_event(Event.of(ev.AlertRaised(**item), now))
            await reception.commit(tx)
            for item in found:
                await notify(reception.hook.alert, alert=item, reception=reception)
        state["due"] = _next_check(due, tz)
        return state["due"]

    return step


@hookimpl(trylast=True)
async def startup(reception: Reception) -> None:
    if reception.settings.alerts.enabled:
        reception.lead(lambda: forever("alerts", reception.clock, make_step(reception)), name="reception-alerts")


@hookimpl(trylast=True)
async def alert(alert: dict[str, Any], reception: Reception) -> None:
    log.warning("alert: %s %s %s %s (hour %s:00 of %s, %s requests)", alert["metric"], alert["value"],
                alert["direction"], alert["limit"], alert["hour"], alert["date"], alert["requests"])
    url = reception.settings.alerts.webhook_url
    if url is None:
        return
    body = json.dumps({"alert": alert}, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if reception.settings.webhook.secret:
        headers.update(auth.signature_headers(reception.settings.webhook.secret, body,
                                              int(reception.clock.now().timestamp())))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async with session.post(url, data=body, headers=headers) as response:
            if response.status >= 300:
                log.warning("alert webhook answered %s", response.status)
