"""Big-sale and penalty modes: whether each is on now, the admin switch, and events at every change.

Penalty mode (robot reception imposed by the platform) is on from the config
(``[penalty] enabled`` with an optional ``from``/``to``) unless the admin
switched it through ``POST /api/v1/modes/penalty``, which takes precedence
and is kept in the database; the switch is recorded as an event, so every
instance of the shop takes it at once. A loop on the clock (on the lease
holder) records ``mode.changed`` whenever a mode turns on or off, at a
window's edge too, so reports can mark the periods; it starts from the last
recorded state, so a restart or a new lease holder records no change twice.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from . import events as ev
from .config import SwitchSettings
from .core import RECEPTION, Reception
from .events import Event
from .hookspecs import hookimpl
from .http import json_response, read_body, require_admin, validate
from .loop import forever
from .models import DateTimeText
from .openapi import Routes
from .state import StateKey

PENALTY_KEY = "mode_penalty"
STATE_KEY: StateKey[dict[str, Any]] = StateKey("modes")


class PenaltySwitch(BaseModel):
    """The admin's penalty switch: on/off, optionally only between from and to."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)
    enabled: bool
    start: DateTimeText | None = Field(default=None, alias="from", description="with a timezone")
    end: DateTimeText | None = Field(default=None, alias="to", description="with a timezone; after from")


def _switch(reception: Reception) -> SwitchSettings:
    return reception.state.get(STATE_KEY, {}).get("penalty") or reception.settings.penalty


def penalty_active(reception: Reception, now: datetime) -> bool:
    return _switch(reception).active(now)


def big_sale_active(reception: Reception, now: datetime) -> bool:
    return reception.settings.big_sale.active(now)


def _view(reception: Reception, now: datetime) -> dict[str, Any]:
    penalty = _switch(reception)
    return {"big_sale": big_sale_active(reception, now), "penalty": penalty.active(now),
            "penalty_window": {"from": penalty.start.isoformat() if penalty.start else None,
                               "to": penalty.end.isoformat() if penalty.end else None}}


def _edges(reception: Reception, now: datetime) -> datetime | None:
    moments = [m for s in (_switch(reception), reception.settings.big_sale) for m in (s.start, s.end) if m and m > now]
    return min(moments) if moments else None


async def _record_changes(reception: Reception) -> datetime | None:
    now = reception.clock.now()
    state = reception.state.setdefault(STATE_KEY, {})
    current = {"penalty": penalty_active(reception, now), "big_sale": big_sale_active(reception, now)}
    if "last" not in state:  # what the shop last recorded, by this instance or another
        up_to_now = now + timedelta(microseconds=1)  # mode_changes reads strictly before its instant
        state["last"] = {mode: (recorded[-1][1] if (recorded := await reception.store.mode_changes(mode, up_to_now))
                                else False) for mode in current}
    before = state["last"]
    changes = [Event.of(ev.ModeChanged(mode=mode, active=on), now)
               for mode, on in current.items() if on != before.get(mode)]
    state["last"] = current
    if changes:
        async with reception.router.change() as tx:
            for event in changes:
                tx.add_event(event)
            if current["big_sale"] != before.get("big_sale"):
                reception.router.apply_limits(now)  # agents' maximum changes with the mode
                await reception.router.drain(tx, now)
    return _edges(reception, now)


@hookimpl(trylast=True)
async def startup(reception: Reception) -> None:
    state = reception.state.setdefault(STATE_KEY, {})
    saved = await reception.store.value(PENALTY_KEY)
    if saved:
        state["penalty"] = SwitchSettings.model_validate(json.loads(saved))
    state["wake"] = wake = asyncio.Event()
    reception.listen(lambda event: _switched(reception, event))
    reception.lead(lambda: forever("modes", reception.clock, lambda: _record_changes(reception), wake),
                   name="reception-modes")


async def _switched(reception: Reception, event: Event) -> None:
    """The admin's penalty switch, stored on this instance or another: in force here at once."""
    if event.name == ev.PENALTY_SWITCHED:
        state = reception.state.setdefault(STATE_KEY, {})
        state["penalty"] = SwitchSettings.model_validate(event.data)
        state["wake"].set()


async def get_modes(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    return json_response(_view(reception, reception.clock.now()))


async def set_penalty(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    body = await read_body(request, PenaltySwitch)
    switch = validate(SwitchSettings, body.model_dump(by_alias=True))  # checks from < to, timezones
    tx = reception.store.transaction()
    tx.set_value(PENALTY_KEY, switch.model_dump_json(by_alias=True))
    tx.add_event(Event.of(ev.PenaltySwitched.model_validate(json.loads(switch.model_dump_json(by_alias=True))),
                          reception.clock.now()))
    await reception.commit(tx)  # every instance's listener puts the switch in force
    return json_response(_view(reception, reception.clock.now()))


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("GET", "/api/v1/modes", get_modes, "Whether big-sale and penalty modes are on", auth="admin",
          errors=(401,))
    route("POST", "/api/v1/modes/penalty", set_penalty, "Switch penalty mode (robot reception) on or off, "
          "optionally for a period", body=PenaltySwitch, auth="admin", errors=(400, 401, 422),
          description="from and to need a timezone, and to must be after from (else 422).")
