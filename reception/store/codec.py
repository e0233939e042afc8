"""How values are written to SQLite columns and read back: timestamps, JSON, conversations, messages, orders."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, NoReturn, overload

import orjson

from ..events import Event
from ..models import Card, Conversation, Image, Message
from ..orders.models import Order

# Conversation fields that are stored as columns of the same name (except group → grp).
CONVERSATION_FIELDS = tuple(Conversation.model_fields)
_COLUMN = {"group": "grp"}
_last_ts: tuple[datetime | None, str] = (None, "")  # the instant `ts` wrote last, and its text


@overload
def ts(value: datetime) -> str: ...
@overload
def ts(value: datetime | None) -> str | None: ...
def ts(value: datetime | None) -> str | None:
    # one fixed format in UTC, so text order is time order
    global _last_ts
    if value is None:
        return None
    last = _last_ts
    if value is last[0]:  # the same instant again (a batch's events and rows; the virtual clock stands still)
        return last[1]
    text = value.isoformat(timespec="microseconds")
    _last_ts = (value, text)
    return text


# orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) writes, ten times faster (issue 16:
# every message stores several events and its answer); what it would write differently it refuses instead
# (datetimes, dataclasses, subclasses of str, int, dict or list, integers beyond 64 bits, keys that are not
# strings, lone surrogates), and those go to json as before, which writes them or raises its own error.
# Left different: a float may be spelt otherwise (0.00001 for 1e-05, read back the same), NaN and infinities
# become null (json wrote NaN and Infinity, which are not JSON), and a UUID or a plain Enum is written as its
# value where json raised.
_ORJSON_REFUSES = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _refuse(value: Any) -> NoReturn:
    raise TypeError(type(value).__name__)


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, default=_refuse, option=_ORJSON_REFUSES).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def column(field: str) -> str:
    return _COLUMN.get(field, field)


_TIMES = {name for name, f in Conversation.model_fields.items() if "datetime" in str(f.annotation)}
_FLAGS = {name for name, f in Conversation.model_fields.items() if f.annotation is bool}
_TIME_AT = [i for i, name in enumerate(CONVERSATION_FIELDS) if name in _TIMES]
_FLAG_AT = [i for i, name in enumerate(CONVERSATION_FIELDS) if name in _FLAGS]


def conversation_row(conv: Conversation) -> tuple[Any, ...]:
    """The conversation's column values: its times as `ts` text, its flags as 0 or 1 (by their declared types:
    a row is written for every change of a conversation, so only those fields are looked at)."""
    fields = conv.__dict__  # pydantic keeps field values here
    row = [fields[name] for name in CONVERSATION_FIELDS]
    for i in _TIME_AT:
        if row[i] is not None:
            row[i] = ts(row[i])
    for i in _FLAG_AT:
        row[i] = int(row[i])
    return tuple(row)


def conversation(row: dict[str, Any]) -> Conversation:
    # rows were written by `conversation_row`: trusted, so no validation, only decoding
    data = {}
    for name in CONVERSATION_FIELDS:
        value = row[column(name)]
        if value is not None and name in _TIMES:
            value = datetime.fromisoformat(value)
        elif name in _FLAGS:
            value = bool(value)
        data[name] = value
    return Conversation.model_construct(**data)


def message_row(msg: Message) -> tuple[Any, ...]:
    return (
        msg.conversation_id, msg.sender, msg.text, ts(msg.created_at), msg.intent, msg.confidence,
        dumps(msg.card.model_dump()) if msg.card else None, msg.agent_id, msg.message_id, msg.lang, msg.kind,
        dumps(msg.image.model_dump()) if msg.image else None,
    )


def media_row(msg: Message) -> tuple[Any, ...]:
    """The `media` row of a message's photo: its conversation, sender and uploader (agent id or buyer)."""
    assert msg.image is not None
    image = msg.image
    uploader = msg.agent_id or msg.sender
    return (image.id, msg.conversation_id, msg.sender, uploader, image.mime, image.size, image.width, image.height,
            ts(msg.created_at))


def message(row: dict[str, Any]) -> Message:
    return Message(
        conversation_id=row["conversation_id"], sender=row["sender"], text=row["text"],
        created_at=datetime.fromisoformat(row["created_at"]), intent=row["intent"], confidence=row["confidence"],
        card=Card.model_validate(json.loads(row["card"])) if row["card"] else None, agent_id=row["agent_id"],
        message_id=row["message_id"], lang=row["lang"], kind=row["kind"], id=row["id"],
        image=Image.model_validate(json.loads(row["image"])) if row.get("image") else None,
    )


def event(row: dict[str, Any]) -> Event:
    return Event(name=row["name"], at=datetime.fromisoformat(row["at"]), conversation_id=row["conversation_id"],
                 customer_id=row["customer_id"], data=json.loads(row["data"] or "{}"))


ORDER_COLUMNS = ("order_id", "customer_id", "status", "items", "address", "carrier", "tracking_no",
                 "tracking_events", "updated_at")


def order_row(order: Order) -> tuple[Any, ...]:
    if order.updated_at is None:
        raise ValueError("an order is stored with its updated_at")
    data = order.model_dump(mode="json", include={"items", "tracking_events"})
    return (order.order_id, order.customer_id, order.status, dumps(data["items"]), order.address, order.carrier,
            order.tracking_no, dumps(data["tracking_events"]), ts(order.updated_at.astimezone(timezone.utc)))


def order(row: dict[str, Any]) -> Order:
    data = {name: row[name] for name in ORDER_COLUMNS}
    data["items"] = json.loads(data["items"])
    data["tracking_events"] = json.loads(data["tracking_events"] or "[]")
    return Order.model_validate(data)
