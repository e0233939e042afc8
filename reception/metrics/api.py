"""Where the metrics are read, a default plugin: the assessment and intent APIs and Prometheus ``/metrics``.

- ``GET /api/v1/metrics/assessment?from=YYYY-MM-DD&to=YYYY-MM-DD`` (admin):
  the assessment figures (see `reception.metrics.assessment`), local dates,
  both inclusive, today by default.
- ``GET /api/v1/metrics/intents?from=…&to=…[&allow_long=true]`` (admin):
  intent analytics; at most ``[assessment] intent_max_days`` (31) days unless
  ``allow_long=true``.
- ``GET /metrics``: Prometheus text format, the app's own registry; when
  ``[metrics] token`` is set, only with ``Authorization: Bearer <that token>``
  (401 otherwise).

Bad dates, ``from`` after ``to`` or a range too long get a 422.
"""

from __future__ import annotations

from aiohttp import web

from .. import auth
from ..core import RECEPTION, Reception
from ..events import Event
from ..hookspecs import hookimpl
from ..http import ApiError, json_response, require_admin
from ..openapi import Query, Routes
from ..state import StateKey
from . import RangeError, local_today, parse_range
from .assessment import assess
from .intents import analyse
from .prom import Instruments

STATE_KEY: StateKey[Instruments] = StateKey("metrics")

_DATE = {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}]}
RANGE = (Query("from", _DATE, "first day (the shop's local date, YYYY-MM-DD), inclusive; absent or empty: today"),
         Query("to", _DATE, "last day (YYYY-MM-DD), inclusive; absent or empty: today"))
RANGE_RULE = ("from must not be after to (else 422 invalid_range); a date that is not YYYY-MM-DD: 422 "
              "invalid_date.")
_FIGURE = {"type": ["number", "null"]}
ASSESSMENT = {
    "type": "object",
    "required": ["sessions", "first_reply_2min_rate", "human_reply_3min_rate", "avg_response_seconds",
                 "non_service_rate", "non_service_type1", "non_service_type2", "dissatisfaction_rate",
                 "bot_resolution_rate", "by_reason", "by_group", "by_agent", "by_day", "by_hour", "penalty_periods"],
    "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "sessions": {"type": "integer"}, "human_requests": {"type": "integer"},
        "first_reply_2min_rate": _FIGURE, "human_reply_3min_rate": _FIGURE, "avg_response_seconds": _FIGURE,
        "non_service_rate": _FIGURE, "non_service_type1": {"type": "integer"},
        "non_service_type2": {"type": "integer"}, "dissatisfaction_rate": _FIGURE, "bot_resolution_rate": _FIGURE,
        **{name: {"type": "array", "items": {"type": "object"}}
           for name in ("by_reason", "by_group", "by_agent", "by_day", "by_hour", "penalty_periods")},
    },
}
INTENTS = {
    "type": "object",
    "required": ["sessions", "intents", "top_by_volume", "top_by_contribution"],
    "properties": {
        "sessions": {"type": "integer"}, "dissatisfied": {"type": "integer"},
        "intents": {"type": "array", "items": {"type": "object", "properties": {
            "intent": {"type": "string"}, "kind": {"enum": ["intent", "handover", "none"]},
            "sessions": {"type": "integer"}, "dissatisfaction_rate": _FIGURE, "contribution_rate": _FIGURE}}},
        "top_by_volume": {"type": "array", "items": {"type": "string"}},
        "top_by_contribution": {"type": "array", "items": {"type": "string"}},
    },
}


def instruments(reception: Reception) -> Instruments:
    """The app's Prometheus instruments (made on first use)."""
    found = reception.state.get(STATE_KEY)
    if found is None:
        found = reception.state[STATE_KEY] = Instruments(reception.settings)
    return found


def _range(request: web.Request, reception: Reception, max_days: int | None = None):
    today = local_today(reception.settings, reception.clock.now())
    try:
        return parse_range(request.query.get("from"), request.query.get("to"), today, max_days)
    except RangeError as exc:
        raise ApiError(422, exc.code, str(exc)) from None


async def get_assessment(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    first, last = _range(request, reception)
    return json_response(await assess(reception.store, reception.settings, first, last, reception.clock.now()))


async def get_intents(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    require_admin(request, reception.settings.admin.token)
    allow_long = request.query.get("allow_long", "false").lower()
    if allow_long not in ("true", "false", "1", "0"):
        raise ApiError(422, "invalid_field", "allow_long: expected true or false")
    limit = None if allow_long in ("true", "1") else reception.settings.assessment.intent_max_days
    first, last = _range(request, reception, limit)
    return json_response(await analyse(reception.store, reception.settings, first, last, reception.clock.now()))


async def prometheus(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    token = reception.settings.metrics.token
    if token is not None and not auth.matches(auth.bearer(request), token):
        raise ApiError(401, "unauthorized", "a valid metrics bearer token is required ([metrics] token)",
                       headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    now = reception.clock.now()
    today = local_today(reception.settings, now)
    found = instruments(reception)
    found.set_assessment(await assess(reception.store, reception.settings, today, today, now))
    return web.Response(body=found.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


@hookimpl
def track_event(event: Event, reception: Reception) -> None:
    instruments(reception).observe(event)


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    instruments(reception)
    route("GET", "/api/v1/metrics/assessment", get_assessment, "The platform assessment figures for sessions "
          "that started in the assessment window of the days from..to", response=ASSESSMENT, auth="admin",
          errors=(401, 422), query=RANGE, description=RANGE_RULE)
    route("GET", "/api/v1/metrics/intents", get_intents, "Sessions and dissatisfaction per consultation "
          "intent, TOP lists by volume and by contribution", response=INTENTS, auth="admin", errors=(401, 422),
          query=(*RANGE, Query("allow_long", {"type": "boolean", "default": False},
                               "true: a range longer than [assessment] intent_max_days (31) days")),
          description=RANGE_RULE + " At most [assessment] intent_max_days (31) days unless allow_long=true "
          "(else 422 range_too_long).")
    route("GET", "/metrics", prometheus, "Prometheus metrics (text format); when [metrics] token is set, "
          "only with Authorization: Bearer <that token>", auth="optional", errors=(401,), media="text/plain")
