"""What a buyer sends through WeCom customer service, turned into the `Inbound` every channel hands on.

``kf/sync_msg`` lists the buyer's messages (``origin`` 3), the messages an
agent sent from the WeCom app (5) and system events (4); only the buyer's
become `Inbound`. Text (a menu click is a text with a ``menu_id``) stays text;
a WeChat Channels shop product or order becomes a product or order card; a
link or mini program becomes text (its title and address), and a product
card too when the shop's ``product_pattern`` finds a product id in it; media
the bot cannot read become a short bilingual placeholder, so a human still
sees that something came.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from reception.plugin import Card, Inbound

from .config import NAME

log = logging.getLogger("reception.wecom")

BUYER = 3  # origin of a message the WeChat user sent
MAX_TEXT = 4000  # what the pipeline takes; longer text is cut
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PLACEHOLDERS = {
    "image": "[图片] [image]",
    "voice": "[语音] [voice message]",
    "video": "[视频] [video]",
    "file": "[文件] [file]",
    "business_card": "[名片] [contact card]",
    "channels": "[视频号] [WeChat Channels post]",
}


class KfMessage(BaseModel):
    """One entry of ``msg_list``: the fields read here; the rest is ignored."""

    model_config = ConfigDict(extra="ignore")
    msgid: str
    msgtype: str
    origin: int | None = None
    open_kfid: str | None = None
    external_userid: str | None = None
    send_time: int | None = None
    text: dict[str, Any] | None = None
    link: dict[str, Any] | None = None
    miniprogram: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    channels_shop_product: dict[str, Any] | None = None
    channels_shop_order: dict[str, Any] | None = None
    event: dict[str, Any] | None = None


def _text(value: Any) -> str:
    return _CONTROL.sub(" ", value).strip() if isinstance(value, str) else ""


def _card(kind: str, value: Any) -> Card | None:
    try:
        return Card(type=kind, id=_text(value))
    except ValidationError:
        return None


def _joined(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def content(msg: KfMessage, product: re.Pattern[str] | None) -> tuple[str, Card | None]:
    """The text and card a message carries (text may be empty when a card says it all)."""
    kind = msg.msgtype
    if kind == "text":
        return _text((msg.text or {}).get("content")), None
    if kind == "channels_shop_product":
        data = msg.channels_shop_product or {}
        return _joined("[商品] [product]", _text(data.get("title"))), _card("product", data.get("product_id"))
    if kind == "channels_shop_order":
        data = msg.channels_shop_order or {}
        return _joined("[订单] [order]", _text(data.get("product_titles"))), _card("order", data.get("order_id"))
    if kind in ("link", "miniprogram"):
        data = (msg.link if kind == "link" else msg.miniprogram) or {}
        where = _text(data.get("url") if kind == "link" else data.get("pagepath"))
        label = "[链接] [link]" if kind == "link" else "[小程序] [mini program]"
        found = product.search(where) if product is not None and where else None
        card = _card("product", found.group(1)) if found else None
        return _joined(label, _text(data.get("title")), _text(data.get("desc")), where), card
    if kind == "location":
        data = msg.location or {}
        return _joined("[位置] [location]", _text(data.get("name")), _text(data.get("address"))), None
    return PLACEHOLDERS.get(kind, f"[{kind}]"), None


def to_inbound(item: Any, open_kfid: str, product: re.Pattern[str] | None) -> Inbound | None:
    """The buyer's message as `Inbound` (msgid as message_id), or None: not the buyer's, an event, unreadable."""
    try:
        msg = KfMessage.model_validate(item)
    except ValidationError:
        log.warning("wecom: a sync_msg entry without msgid or msgtype was skipped")
        return None
    if msg.msgtype == "event":
        _event(msg)
        return None
    if msg.origin != BUYER or (msg.open_kfid and msg.open_kfid != open_kfid):
        return None
    text, card = content(msg, product)
    sent_at = None
    if msg.send_time is not None and 0 < msg.send_time < 2**33:
        sent_at = datetime.fromtimestamp(msg.send_time, UTC)
    try:
        return Inbound(channel=NAME, customer_id=msg.external_userid or "", message_id=msg.msgid,
                       text=text[:MAX_TEXT] or None, card=card, sent_at=sent_at)
    except ValidationError as exc:
        log.warning("wecom: message %s skipped: %s", _text(msg.msgid)[:64],
                    "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())[:200])
        return None


def _event(msg: KfMessage) -> None:
    """Events need no answer here: entering the session starts nothing until the buyer writes; a failed send is
    logged (the outbox already retried it), the rest is WeCom's own bookkeeping."""
    event = msg.event or {}
    kind = _text(event.get("event_type"))
    if kind == "msg_send_fail":
        log.warning("wecom: WeCom could not deliver message %s to %s (fail_type %s)",
                    _text(event.get("fail_msgid"))[:64], _text(event.get("external_userid"))[:64],
                    _text(str(event.get("fail_type")))[:8])
    else:
        log.debug("wecom: event %s ignored", kind[:40])
