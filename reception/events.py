"""Events: every step of the pipeline records one, past tense, dotted names, each with a typed payload.

Metrics are computed from events alone, so an event carries everything a
later report needs (who, when, which conversation, why). Each kind of event
is one `Payload` class here (its fields are the event's ``data``); code
records an event with ``Event.of(Payload(...), at, conversation)``, so a misspelt or missing field fails
where the event is made; readers (the ledger, live updates, ``track_event``) get the typed `Event.payload`.
`catalogue()` lists them for the plugin guide.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

if TYPE_CHECKING:
    from .models import Conversation


class Payload(BaseModel):
    """The data of one kind of event; `name` is the event's name. Unknown keys read back from the store are ignored."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)
    name: ClassVar[str]


class ConversationStarted(Payload):
    """A buyer wrote for the first time since their last conversation closed."""

    name: ClassVar[str] = "conversation.started"
    channel: str
    entry: str | None
    # who the buyer is and where from, when the channel says (`BuyerContext`); personal: dropped on erasure
    buyer_name: str | None = None
    page_url: str | None = None
    page_title: str | None = None
    device: dict[str, str] | None = None


class MessageReceived(Payload):
    """A buyer's message was stored; `status` is the conversation's status when it arrived."""

    name: ClassVar[str] = "message.received"
    message_id: str | None
    chars: int
    lang: str | None
    card: dict[str, Any] | None
    sent_at: str | None = Field(description="when the channel says the buyer sent it (ISO 8601), if it says")
    status: str
    image: str | None = Field(default=None, description="the id of the photo the message carries (reception.media)")


class BotAnswered(Payload):
    """The bot's reply was sent, with how sure it was and the runner-up."""

    name: ClassVar[str] = "bot.answered"
    intent: str | None
    confidence: float
    runner_up: str | None
    runner_up_confidence: float | None


class HandoverRequested(Payload):
    """The handover votes asked for a human; `reason` is the first vote, `votes` all of them.

    A vote's own detail (a plugin's `Handover.detail`) is kept as further keys.
    """

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="allow")
    name: ClassVar[str] = "handover.requested"
    reason: str
    intent: str | None
    votes: list[str] = []
    confidence: float | None = None


class MessageSent(Payload):
    """A message to the buyer (bot, agent or system) was stored."""

    name: ClassVar[str] = "message.sent"
    sender: str
    agent_id: str | None
    kind: str | None
    chars: int
    image: str | None = Field(default=None, description="the id of the photo the message carries (reception.media)")


class ConversationAssigned(Payload):
    """An agent got the buyer; `via` says how (route, queue, pool, accept, admin, reassign, transfer)."""

    name: ClassVar[str] = "conversation.assigned"
    agent_id: str
    group: str | None
    via: str
    came_from: str | None = Field(alias="from", description="the status the buyer left (queued, offline …)")
    waited_seconds: float | None
    by: str | None = Field(default=None, description="who assigned by hand: the admin (admin), an agent who "
                           "took the buyer (their id), the pool's run (system auto-assign); none: routing")


class ConversationQueued(Payload):
    """The buyer waits in the queue at `position` (1 first)."""

    name: ClassVar[str] = "conversation.queued"
    group: str | None
    position: int
    estimate_seconds: float
    priority: int


class ConversationPooled(Payload):
    """Nobody could take the buyer: they wait in the offline message pool."""

    name: ClassVar[str] = "conversation.pooled"
    group: str | None
    reason: str


class BotTookOver(Payload):
    """The bot serves the buyer because no human covers (outside hours, nobody online, penalty …)."""

    name: ClassVar[str] = "coverage.bot_took_over"
    reason: str
    group: str | None


class ConversationTransferred(Payload):
    """An agent or the admin passed the buyer to another agent or group."""

    name: ClassVar[str] = "conversation.transferred"
    came_from: str | None = Field(alias="from")
    to_agent: str | None
    to_group: str | None
    by: str


class ConversationReassigned(Payload):
    """The reply watchdog moved an unanswered buyer to another agent."""

    name: ClassVar[str] = "conversation.reassigned"
    came_from: str | None = Field(alias="from")
    to: str
    waited_seconds: float


class ReassignFailed(Payload):
    """The reply watchdog found no other agent for an unanswered buyer."""

    name: ClassVar[str] = "conversation.reassign_failed"
    agent_id: str | None
    reason: str


class ConversationClosed(Payload):
    """The conversation ended; `by` is who closed it (an agent, the admin, the system)."""

    name: ClassVar[str] = "conversation.closed"
    by: str
    agent_id: str | None


class AgentStatusChanged(Payload):
    """An agent went online, suspended or offline."""

    name: ClassVar[str] = "agent.status_changed"
    agent_id: str
    came_from: str = Field(alias="from")
    to: str


class AgentReplied(Payload):
    """An agent answered the buyer; `first` for the first reply after the request for a human."""

    name: ClassVar[str] = "agent.replied"
    agent_id: str | None
    first: bool
    response_seconds: float | None
    since_request_seconds: float | None


class AgentReminded(Payload):
    """The reply watchdog reminded an agent of a buyer waiting `waited_seconds`."""

    name: ClassVar[str] = "agent.reminded"
    agent_id: str | None
    waited_seconds: int


class SatisfactionRequested(Payload):
    """The buyer was asked to rate the agent's service."""

    name: ClassVar[str] = "satisfaction.requested"
    agent_id: str | None


class SatisfactionRated(Payload):
    """The buyer rated the service: `score` 1-5 and its `label`."""

    name: ClassVar[str] = "satisfaction.rated"
    score: int
    label: str
    agent_id: str | None


class PoolRan(Payload):
    """One run over the offline message pool (`trigger`: schedule, admin, login)."""

    name: ClassVar[str] = "pool.ran"
    at: str
    operator: str
    trigger: str
    considered: int
    assigned: int
    cap: int
    reason: str | None
    failed: int


class ModeChanged(Payload):
    """A service mode (big sale, penalty) came into or went out of force."""

    name: ClassVar[str] = "mode.changed"
    mode: str
    active: bool


class PenaltySwitched(Payload):
    """The admin's penalty switch: on or off, optionally only between `from` and `to`."""

    name: ClassVar[str] = "mode.penalty_switched"
    enabled: bool
    start: str | None = Field(alias="from")
    end: str | None = Field(alias="to")


class AlertRaised(Payload):
    """An assessment figure of the previous hour went past its limit."""

    name: ClassVar[str] = "alert.raised"
    metric: str
    value: float
    limit: float
    direction: str
    date: str
    hour: int
    requests: int


class CallbackDelivered(Payload):
    """A later message reached the buyer's channel after `attempts` tries."""

    name: ClassVar[str] = "callback.delivered"
    channel: str
    attempts: int


class CallbackFailed(Payload):
    """A later message could not be delivered and was given up after `attempts` tries."""

    name: ClassVar[str] = "callback.failed"
    channel: str
    attempts: int
    error: str


class BuyerForgotten(Payload):
    """A buyer's data was erased on request; the keys are rows erased per kind, never who."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="allow")
    name: ClassVar[str] = "buyer.forgotten"


class RetentionPurged(Payload):
    """Everything older than the retention period was erased: the cutoff, then rows erased per kind."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="allow")
    name: ClassVar[str] = "retention.purged"
    cutoff: str


class IntentCorrected(Payload):
    """An agent (or the admin) set the conversation's intent by hand; the intent analytics count it instead."""

    name: ClassVar[str] = "intent.corrected"
    intent: str | None = Field(description="the FAQ entry or skill chosen; null removes the correction")
    previous: str | None = Field(default=None, description="the correction it replaces, if any")
    by: str = Field(description="the agent's id, or 'admin'")


KINDS: dict[str, type[Payload]] = {kind.name: kind for kind in Payload.__subclasses__()}

# The names, for code that filters by name (SQL over the stored events, live updates)
CONVERSATION_STARTED = ConversationStarted.name
MESSAGE_RECEIVED = MessageReceived.name
BOT_ANSWERED = BotAnswered.name
HANDOVER_REQUESTED = HandoverRequested.name
MESSAGE_SENT = MessageSent.name
CONVERSATION_ASSIGNED = ConversationAssigned.name
CONVERSATION_QUEUED = ConversationQueued.name
CONVERSATION_POOLED = ConversationPooled.name
CONVERSATION_TRANSFERRED = ConversationTransferred.name
CONVERSATION_REASSIGNED = ConversationReassigned.name
CONVERSATION_CLOSED = ConversationClosed.name
AGENT_STATUS_CHANGED = AgentStatusChanged.name
AGENT_REPLIED = AgentReplied.name
AGENT_REMINDED = AgentReminded.name
REASSIGN_FAILED = ReassignFailed.name
SATISFACTION_REQUESTED = SatisfactionRequested.name
SATISFACTION_RATED = SatisfactionRated.name
POOL_RAN = PoolRan.name
MODE_CHANGED = ModeChanged.name
PENALTY_SWITCHED = PenaltySwitched.name
ALERT_RAISED = AlertRaised.name
BOT_TOOK_OVER = BotTookOver.name
CALLBACK_DELIVERED = CallbackDelivered.name
CALLBACK_FAILED = CallbackFailed.name
BUYER_FORGOTTEN = BuyerForgotten.name
RETENTION_PURGED = RetentionPurged.name
INTENT_CORRECTED = IntentCorrected.name


class UnknownEvent(ValueError):
    """An event name with no `Payload` class."""


class Event(BaseModel):
    """One thing that happened, at one instant of the reception's clock: its name, when, about whom, its data."""

    name: str
    at: datetime
    conversation_id: str | None = None
    customer_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    _payload: Payload | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, payload: Payload, at: datetime, conversation: "Conversation | None" = None, *,
           conversation_id: str | None = None) -> "Event":
        """The event `payload` at `at`, about `conversation` (or only its id) when it is about one."""
        if type(payload) not in _KNOWN:
            raise UnknownEvent(f"{type(payload).__name__} is not an event payload of reception.events")
        event = cls(name=payload.name, at=at,
                    conversation_id=conversation.id if conversation is not None else conversation_id,
                    customer_id=conversation.customer_id if conversation is not None else None,
                    data=payload.model_dump(mode="json", by_alias=True))
        event._payload = payload
        return event

    @property
    def payload(self) -> Payload:
        """The typed data; for an event read from the store, built once from `data` (see `read`)."""
        # read through `__pydantic_private__`: `self._payload` goes through pydantic's __getattr__, several
        # microseconds, and the ledger, live updates and hooks ask for every event's payload (issue 16)
        payload: Payload | None = (self.__pydantic_private__ or {}).get("_payload")
        if payload is None:
            kind = KINDS.get(self.name)
            if kind is None:
                raise UnknownEvent(f"no payload class for event {self.name!r}")
            payload = self._payload = read(kind, self.data)
        return payload


def read(kind: type[Payload], data: dict[str, Any]) -> Payload:
    """`data` as stored, as a `kind`, without validation: the store holds what `Event.of` checked when it was
    made, and an event stored by an older version may lack a field added since, which reads as its default or None.
    """
    values = {key: data.get(field.alias or key, None if field.is_required() else field.get_default())
              for key, field in kind.model_fields.items()}
    if kind.model_config.get("extra") == "allow":
        known = {field.alias or key for key, field in kind.model_fields.items()}
        values.update((key, value) for key, value in data.items() if key not in known)
    return kind.model_construct(**values)


_KNOWN = frozenset(KINDS.values())


def catalogue() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(name, what it means, [(field, type)]) for every kind of event, for the plugin guide."""
    rows = []
    for kind in KINDS.values():
        fields = [(field.alias or key, _type_name(field.annotation)) for key, field in kind.model_fields.items()]
        rows.append((kind.name, (kind.__doc__ or "").strip().splitlines()[0], fields))
    return rows


def _type_name(annotation: Any) -> str:
    name = str(annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return name.removesuffix(" | None") + " or null" if name.endswith(" | None") else name


def catalogue_table() -> str:
    """`catalogue` as the Markdown table of the plugin guide (docs/plugins.md; tests/test_guide.py keeps it equal)."""
    rows = ["| event | what happened | `data` fields |", "|---|---|---|"]
    for name, what, fields in catalogue():
        listed = ", ".join(f"`{key}` ({kind})" for key, kind in fields) or "the rows erased, per kind"
        rows.append(f"| `{name}` | {what} | {listed} |")
    return "\n".join(rows) + "\n"
