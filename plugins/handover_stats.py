"""Example plugin: handovers per reason, on an admin route and on ``/metrics``.

Load it with ``reception serve --plugins-dir plugins``; it needs no config.

- ``GET /api/v1/handover-stats`` (admin token): ``{"reasons": {"requested": 3, "vip": 1}}``, the
  handovers of this shop since the server started, counted from the ``handover.requested`` events;
- ``GET /metrics``: ``handover_stats_handovers_total{reason="requested"} 3.0`` in the shop's own
  Prometheus registry, beside the built-in metrics.

It shows an observer (`track_event`, called once each event is stored), an
instrument on the shop's registry (`metrics_registry`), and an admin route
added with `route`, so it appears in the OpenAPI document.
"""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import Counter

from reception.plugin import (
    RECEPTION,
    StateKey,
    events,
    hookimpl,
    json_response,
    metrics_registry,
    require_admin,
)


class Stats:
    """This shop's handovers per reason, as a Prometheus counter and as a plain tally for the route."""

    def __init__(self, reception) -> None:
        self.counter = Counter("handover_stats_handovers", "Handovers to a human, by reason (example plugin)",
                               ["reason"], registry=metrics_registry(reception))
        self.tally: Tally[str] = Tally()

    def count(self, reason: str) -> None:
        self.counter.labels(reason=reason).inc()
        self.tally[reason] += 1


STATS: StateKey[Stats] = StateKey("handover_stats")

REASONS = {"type": "object", "properties": {"reasons": {"type": "object", "additionalProperties": {"type": "integer"}}}}


@hookimpl
def track_event(event, reception):
    if isinstance(handover := event.payload, events.HandoverRequested):
        reception.state[STATS].count(handover.reason)


@hookimpl
def register_routes(route, reception):
    reception.state[STATS] = Stats(reception)  # at start, once: a registry refuses a metric name twice

    async def handover_stats(request):
        shop = request.app[RECEPTION]
        require_admin(request, shop.settings.admin.token)
        return json_response({"reasons": dict(shop.state[STATS].tally)})

    route("GET", "/api/v1/handover-stats", handover_stats, "Handovers per reason since the server started",
          response=REASONS, auth="admin", errors=(401,))
