"""The order as the shop knows it: `Order`, its `Item`s and `TrackingEvent`s, validated at every edge.

The same model checks a CSV row, a JSON object posted to the API and a row
read back from the store. Lenient where shop exports are messy, strict
everywhere else:

- ``items`` is a list of ``{name, spec, qty}``, or that list as JSON text (a
  string starting with ``[``, as in a CSV cell), or a plain string: items separated by ``|`` or new lines, each
  ``NAME [SPEC] [×QTY]`` — the first word is the name, the rest up to an
  optional quantity is the spec (``亚麻抱枕套 燕麦米/45x45 ×2``). ``×``, ``*``,
  ``＊`` or a space then ``x`` introduce the quantity; without one it is 1.
- ``tracking_events`` is a list of ``{time, text}``, or that list as JSON.
- Times are ISO-8601. A time without a UTC offset is read in the timezone
  passed as ``context={"timezone": ZoneInfo(...)}`` (the importer and the API
  pass the shop's ``[hours] timezone``); without one it is refused.
- Empty ``address``, ``carrier`` and ``tracking_no`` mean "none yet".
"""

from __future__ import annotations

import json
import re
from datetime import datetime, tzinfo
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from ..models import DateTimeText, clean_text

OrderStatus = Literal["unpaid", "paid", "shipped", "delivered", "after_sale"]
STATUSES: tuple[str, ...] = ("unpaid", "paid", "shipped", "delivered", "after_sale")


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must contain only printable characters")
    return value


# Order and customer ids: 1–64 printable characters (surrounding spaces are dropped).
OrderId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
                    AfterValidator(_printable)]


def _clean(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_clean)]  # no NUL or other control characters


def _aware(value: datetime, info: ValidationInfo) -> datetime:
    if value.tzinfo is not None:
        return value
    zone: tzinfo | None = (info.context or {}).get("timezone")
    if zone is None:
        raise ValueError("needs a UTC offset, e.g. 2026-11-11T10:00:00+08:00")
    return value.replace(tzinfo=zone)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)


class Item(_Strict):
    """One line of an order: what, which variant (颜色、尺寸 …) and how many."""

    name: Text = Field(min_length=1, max_length=200)
    spec: Text = Field(default="", max_length=200, description='the variant, e.g. "颜色:燕麦米; 尺寸:45x45"')
    qty: int = Field(default=1, ge=1, le=100_000)


class TrackingEvent(_Strict):
    """One step of the parcel's journey as the carrier reports it."""

    time: DateTimeText
    text: Text = Field(min_length=1, max_length=500)

    @field_validator("time")
    @classmethod
    def _zone(cls, value: datetime, info: ValidationInfo) -> datetime:
        return _aware(value, info)


_QTY = re.compile(r"(?:\s[xX]|[×*＊])\s*(\d+)\s*$")
_ITEM_SEPARATORS = re.compile(r"[|\n]")


def parse_items(text: str) -> list[dict[str, Any]]:
    """Items from the plain form ``NAME [SPEC] [×QTY] | NAME …`` (see the module docstring)."""
    items = []
    for part in _ITEM_SEPARATORS.split(text):
        part = part.strip()
        if not part:
            continue
        qty = 1
        found = _QTY.search(part)
        if found:
            qty, part = int(found.group(1)), part[:found.start()].strip()
        name, _, spec = part.partition(" ")
        items.append({"name": name, "spec": spec.strip(), "qty": qty})
    return items


def _json_list(value: Any, what: str) -> Any:
    """A CSV cell holding a JSON list becomes the list; bad JSON is named as such."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return []
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not a valid JSON list of {what}: {exc.msg} at character {exc.pos + 1}") from None


def _one_item(value: Any) -> Any:
    # a list element may itself be in the plain form; several items in one element are refused
    if isinstance(value, str):
        parsed = parse_items(value)
        return parsed[0] if len(parsed) == 1 else value
    return value


class Order(_Strict):
    """An order of one buyer, as imported, posted or updated; `order_id` is unique in the shop."""

    order_id: OrderId
    customer_id: OrderId
    status: OrderStatus
    items: list[Item] = Field(min_length=1, max_length=500, description="also accepted: a plain string "
                              "'NAME [SPEC] [×QTY] | …', e.g. '亚麻抱枕套 燕麦米/45x45 ×2'")
    address: str | None = Field(default=None, max_length=500)
    carrier: str | None = Field(default=None, max_length=64)
    tracking_no: str | None = Field(default=None, max_length=64)
    tracking_events: list[TrackingEvent] = Field(default_factory=list, max_length=500,
                                                 description="oldest first; a time without offset is in the shop's "
                                                 "timezone")
    updated_at: DateTimeText | None = Field(default=None, description="when the order last changed; default: "
                                        "when it was stored")

    @field_validator("items", mode="before")
    @classmethod
    def _items(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = _json_list(value, "items") if value.lstrip().startswith("[") else parse_items(value)
        if isinstance(value, list):
            if not value:
                raise ValueError("is empty: an order has at least one item")
            return [_one_item(v) for v in value]
        return value

    @field_validator("tracking_events", mode="before")
    @classmethod
    def _events(cls, value: Any) -> Any:
        return _json_list(value, "{time, text} events")

    @field_validator("tracking_events")
    @classmethod
    def _in_order(cls, value: list[TrackingEvent]) -> list[TrackingEvent]:
        return sorted(value, key=lambda e: e.time)  # oldest first, whatever order the carrier gave

    @field_validator("address", "carrier", "tracking_no", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        value = _clean(value)
        return None if value == "" else value

    @field_validator("updated_at")
    @classmethod
    def _zone(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return None if value is None else _aware(value, info)

    @property
    def is_open(self) -> bool:
        """Still in progress for the buyer: anything but delivered."""
        return self.status != "delivered"


def error_lines(exc: Any) -> list[tuple[str, str]]:
    """(field, reason) for each error of a pydantic `ValidationError`, fields dotted (``items.0.qty``)."""
    return [(".".join(str(p) for p in err["loc"]) or "(row)", err["msg"].removeprefix("Value error, "))
            for err in exc.errors()]
