"""The domain models shared by channels, the pipeline, plugins and the store.

`Inbound` is what every channel hands to the pipeline; `Conversation`,
`Message` and `BotAnswer` are what plugins see; `Reply` and `Outcome` are what
the buyer gets back.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    field_validator,
    model_validator,
)

Status = Literal["bot", "queued", "assigned", "offline", "closed"]
Sender = Literal["buyer", "bot", "agent", "system"]

MAX_TEXT = 4000  # characters; the platforms cap a chat message well below this
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|[Tt ]\d{2}:\d{2})", re.ASCII)
# For the OpenAPI document: what `clean_text` lets through, and that with something left after stripping.
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
NO_CONTROL = f"^[^{_CONTROLS}]*$"
SOME_TEXT = f"^[^{_CONTROLS}]*[^\\s{_CONTROLS}][^{_CONTROLS}]*$"
# Request bodies take JSON types as they are: no 1 for true, no "5" for 5, no number for a date-time.
STRICT_BODY = ConfigDict(extra="forbid", strict=True)


def _date_time_text(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _DATE_TIME.match(value)):
        return value
    raise ValueError("expected an ISO 8601 date-time text, e.g. 2026-11-11T10:00:00+08:00")


# A date-time on the wire: ISO 8601 text only (pydantic alone would also take a number as unix seconds);
# not strict, or the text itself would be refused in a strict body.
DateTimeText = Annotated[datetime, Strict(False), BeforeValidator(_date_time_text)]


def clean_text(value: str | None) -> str | None:
    """Refuse NUL and other control characters; strip surrounding whitespace."""
    if value is None:
        return None
    if _CONTROL.search(value):
        raise ValueError("must not contain NUL or other control characters")
    return value.strip()


def typed(value: str) -> str:
    """A text a person typed (a reply, a note): no control characters, not blank once stripped."""
    value = clean_text(value) or ""
    if not value:
        raise ValueError("text is empty")
    return value


class Card(BaseModel):
    """A product or order card sent by the buyer: it counts as a consultation."""

    model_config = STRICT_BODY
    type: Literal["product", "order"]
    id: Identifier


MEDIA_PATH = "/api/v1/media"  # where photos are served (reception.media.api), never by a guessable name
ImageUrl = Annotated[str, StringConstraints(max_length=2048, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s]+$")]


class Image(BaseModel):
    """A photo in a message: stored outside the database under an unguessable id (`reception.media`)."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
    mime: Literal["image/jpeg", "image/png", "image/webp"]
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    size: int = Field(ge=1, description="bytes of the stored (re-encoded) file")

    def view(self) -> dict[str, Any]:
        """As the APIs, the widget and the callbacks show it: what it is, and where to fetch it (with a token
        that may read its conversation: `reception.media.api`)."""
        return {**self.model_dump(), "url": f"{MEDIA_PATH}/{self.id}", "thumb_url": f"{MEDIA_PATH}/{self.id}/thumb"}


class BuyerMessage(BaseModel):
    """A buyer's message as it arrives on the wire (the webhook's request body): text, a card, a photo, or some."""

    # the rule of `_text_or_card`, for the OpenAPI document: a text with something in it, a card, or a photo
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"anyOf": [
        {"required": ["text"], "properties": {"text": {"type": "string", "pattern": SOME_TEXT}}},
        {"required": ["card"], "properties": {"card": {"type": "object"}}},
        {"required": ["image_url"], "properties": {"image_url": {"type": "string"}}}]})

    customer_id: Identifier
    message_id: Identifier | None = None
    text: str | None = Field(default=None, max_length=MAX_TEXT, json_schema_extra={"pattern": NO_CONTROL})
    card: Card | None = None
    # a photo the server fetches (reception.media.fetch: public addresses only, size and time limits)
    image_url: ImageUrl | None = Field(default=None, description=(
        "a JPEG, PNG, WebP or HEIC photo (at most [media] max_bytes) that the server fetches once, from a public"
        " address (no redirect to a private one); counts as a consultation"))
    entry: Annotated[str, StringConstraints(max_length=64)] | None = None
    customer_name: Annotated[str, StringConstraints(max_length=64, pattern=NO_CONTROL)] | None = Field(
        default=None, description="the buyer's name or nickname on the platform, shown to agents")
    sent_at: DateTimeText | None = Field(default=None, description="with a timezone; default: when it arrives")

    @field_validator("text")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return clean_text(value)

    @field_validator("sent_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a timezone, e.g. 2026-11-11T10:00:00+08:00")
        return value

    def _has_image(self) -> bool:
        return self.image_url is not None

    @model_validator(mode="after")
    def _text_or_card(self) -> "BuyerMessage":
        if not self.text and self.card is None and not self._has_image():
            raise ValueError("text is required unless a card or an image is given")
        return self


class BuyerContext(BaseModel):
    """Who the buyer is and where they write from, as far as the channel knows (each part optional): kept with
    the conversation's start and shown to agents, always as text."""

    model_config = STRICT_BODY
    name: Annotated[str, StringConstraints(max_length=64, pattern=NO_CONTROL)] | None = Field(
        default=None, description="the buyer's name or nickname on the channel")
    page_url: Annotated[str, StringConstraints(max_length=2048, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s]+$")] | None \
        = Field(default=None, description="the page the widget was opened on")
    page_title: Annotated[str, StringConstraints(max_length=200, pattern=NO_CONTROL)] | None = None
    device: dict[str, str] | None = Field(default=None, description="coarse: {kind: phone|tablet|desktop, os, "
                                          "browser}, from the widget's user agent")


class Inbound(BuyerMessage):
    """A buyer's message as any channel hands it to the pipeline."""

    channel: str
    context: BuyerContext | None = None  # who the buyer is, where from: stored when the conversation starts
    image: Image | None = None  # a photo the channel has stored already (`reception.media.intake`)
    # the language the channel knows the buyer reads (the widget's page): a new conversation without text uses it
    lang: Literal["zh", "en"] | None = None

    def _has_image(self) -> bool:
        return self.image is not None or self.image_url is not None


class Conversation(BaseModel):
    """One buyer's conversation with the shop on one channel, from first message to close."""

    id: str
    channel: str
    customer_id: str
    status: Status = "bot"
    entry: str | None = None
    created_at: datetime
    updated_at: datetime
    handover_reason: str | None = None
    group: str | None = None
    intent: str | None = None  # the FAQ entry or skill behind the handover
    agent_id: str | None = None
    priority: int = 0  # queue priority: higher is served first
    asked_human_at: datetime | None = None  # the buyer's request for a human (the 2-minute clock)
    queued_at: datetime | None = None
    pooled_at: datetime | None = None
    assigned_at: datetime | None = None
    awaiting_since: datetime | None = None  # oldest buyer message the agent has not answered
    reminded_at: datetime | None = None
    last_buyer_at: datetime | None = None
    first_reply_at: datetime | None = None  # the first human reply after the request
    closed_at: datetime | None = None
    rating_pending: bool = False
    lang: str = "zh"  # the buyer's language, for system messages
    last_question: str | None = None  # the buyer's previous message, normalised (repeat detection)

    @property
    def customer_key(self) -> str:
        """One buyer on one channel."""
        return f"{self.channel}\x00{self.customer_id}"


class Message(BaseModel):
    """One message in a conversation, from any sender."""

    conversation_id: str
    sender: Sender
    text: str
    created_at: datetime
    intent: str | None = None
    confidence: float | None = None
    card: Card | None = None
    image: Image | None = None
    agent_id: str | None = None
    message_id: str | None = None
    lang: str | None = None
    kind: str | None = None  # "welcome" (not a reply), "agent_notice" (for the agent only), "queue" …
    id: int | None = None  # the store's sequence number, once stored
    warnings: list[dict[str, str]] = Field(default_factory=list)  # from `filter_outbound`; not stored


class BotAnswer(BaseModel):
    """What a `bot_answer` plugin proposes: a reply and how sure it is."""

    text: str
    intent: str
    confidence: float = Field(ge=0.0, le=1.0)
    # the confidence this answer needs, when the plugin calibrates its own (the FAQ bot does, per FAQ
    # and language); None: the shop's default. ``bot.answer_threshold`` overrides either.
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    handover: bool = False  # answer, then pass the buyer to a human
    handover_reason: str | None = None  # with `handover`: the reason to record (default "faq_entry")
    group: str | None = None
    runner_up: str | None = None
    runner_up_confidence: float | None = None
    # a skill in a multi-turn flow: its name and the state for the next turn (None ends the flow);
    # the pipeline stores it in the same transaction as the reply
    skill: str | None = None
    skill_state: dict[str, Any] | None = None


class Handover(BaseModel):
    """Why a message moves the conversation towards a human."""

    reason: str
    group: str | None = None
    keep_answer: bool = False  # send the bot's answer too (an FAQ entry that answers, then hands over)
    detail: dict[str, Any] = Field(default_factory=dict)


class Reply(BaseModel):
    """A reply returned to the channel in the same exchange."""

    sender: Literal["bot", "system"]
    text: str
    intent: str | None = None
    confidence: float | None = None


class Outcome(BaseModel):
    """The pipeline's answer to one inbound message (the webhook's response body)."""

    conversation_id: str
    status: Status
    replies: list[Reply] = Field(default_factory=list)
    handover: Handover | None = None

    def public(self) -> dict[str, Any]:
        """The JSON body of CONTRACT.md: handover carries its reason (and group when known)."""
        body = self.model_dump(mode="json", exclude={"handover"})
        body["handover"] = (
            None if self.handover is None
            else self.handover.model_dump(mode="json", exclude={"detail", "keep_answer"}, exclude_none=True)
        )
        return body
