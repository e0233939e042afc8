"""Prometheus instruments of one app: counters and histograms fed by events, gauges of today's assessment.

Each app has its own `CollectorRegistry` (kept in ``reception.state``), so two
shops in one process, or two tests, never share a counter. Counters and
histograms count since the process started, as Prometheus expects; the
``reception_assessment_*`` gauges are set at each scrape to the assessment of
the current local day (the same figures as ``GET /api/v1/metrics/assessment``
with no dates), labelled with that date.
"""

from __future__ import annotations

import math
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .. import events as ev
from ..config import Settings
from ..events import Event

# the assessment figures exposed as gauges (names as in the JSON answer)
FIGURES = ("sessions", "human_requests", "first_reply_2min_rate", "human_reply_3min_rate", "avg_response_seconds",
           "non_service_rate", "non_service_type1", "non_service_type2", "dissatisfaction_rate",
           "bot_resolution_rate")


def _buckets(*limits: float) -> tuple[float, ...]:
    return tuple(sorted({5.0, 10.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 1800.0, 3600.0, *limits}))


class Instruments:
    """The app's registry and what it measures."""

    def __init__(self, settings: Settings) -> None:
        cfg = settings.assessment
        self.registry = r = CollectorRegistry()
        self.events = Counter("reception_events", "Events recorded, by name", ["name"], registry=r)
        self.sessions = Counter("reception_sessions", "Conversations started", registry=r)
        self.handovers = Counter("reception_handovers", "Requests for a human, by reason", ["reason"], registry=r)
        self.pooled = Counter("reception_pooled", "Buyers parked in the offline pool, by reason", ["reason"],
                              registry=r)
        self.replies = Counter("reception_agent_replies", "Agents' replies (the welcome excluded)", registry=r)
        self.ratings = Counter("reception_ratings", "Satisfaction ratings, by label", ["label"], registry=r)
        self.first_reply = Histogram(
            "reception_first_reply_seconds", "From the request for a human to the first human reply (queue included)",
            buckets=_buckets(cfg.first_reply_seconds), registry=r)
        self.response = Histogram(
            "reception_agent_response_seconds", "From the oldest unanswered buyer message to the agent's reply",
            buckets=_buckets(cfg.human_reply_seconds), registry=r)
        self.queue_wait = Histogram("reception_assignment_wait_seconds", "From the request for a human to the "
                                    "assignment", buckets=_buckets(), registry=r)
        self._by_name: dict[str, Any] = {}
        self.assessment = {name: Gauge(f"reception_assessment_{name}", f"Today's assessment: {name} (null: NaN)",
                                       ["date"], registry=r) for name in FIGURES}

    def observe(self, event: Event) -> None:
        """Count one stored event."""
        counter = self._by_name.get(event.name)
        if counter is None:  # labels() validates on every call; a shop has a few dozen event names
            counter = self._by_name[event.name] = self.events.labels(name=event.name)
        counter.inc()
        if event.name not in ev.KINDS:
            return
        match event.payload:
            case ev.ConversationStarted():
                self.sessions.inc()
            case ev.HandoverRequested(reason=reason):
                self.handovers.labels(reason=reason).inc()
            case ev.ConversationPooled(reason=reason):
                self.pooled.labels(reason=reason).inc()
            case ev.AgentReplied(first=first, response_seconds=response, since_request_seconds=since):
                self.replies.inc()
                if response is not None:
                    self.response.observe(response)
                if first and since is not None:
                    self.first_reply.observe(since)
            case ev.ConversationAssigned(waited_seconds=waited) if waited is not None:
                self.queue_wait.observe(waited)
            case ev.SatisfactionRated(label=label):
                self.ratings.labels(label=label).inc()

    def set_assessment(self, body: dict[str, Any]) -> None:
        """Show an assessment answer (one day) in the gauges; a null rate is NaN."""
        for name, gauge in self.assessment.items():
            gauge.clear()
            value = body.get(name)
            gauge.labels(date=body["from"]).set(math.nan if value is None else float(value))

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
