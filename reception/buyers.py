"""Who the buyer is, for agents and the dashboard: a display name, where they came from, device and history.

Channels say what they know when a conversation starts (`BuyerContext`: the
platform's nickname, the widget's page and device), kept in the
``conversation.started`` event. A buyer without a name gets a short stable
nickname derived from their id (买家·7Q2K / Buyer·7Q2K), so agents can tell
buyers apart without reading ``wc_f43f95b2…``. `enrich` adds all of it to the
API's conversation views in a few reads, whatever the number of conversations.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, Iterable

from pydantic import ValidationError

from .models import BuyerContext

if TYPE_CHECKING:
    from .core import Reception

_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud or typed without doubt
PREVIEW_CHARS = 80


def nickname(channel: str, customer_id: str) -> str:
    """A short stable tag for a buyer without a name: four characters from a hash of channel and id."""
    digest = hashlib.sha256(f"{channel}\x00{customer_id}".encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:4])


# (pattern, name): the first match wins; order matters (Edge and Opera say Chrome too, Chrome says Safari)
_OS = ((r"iPhone|iPod", "iOS"), (r"iPad", "iPadOS"), (r"Android", "Android"), (r"HarmonyOS|OpenHarmony", "HarmonyOS"),
       (r"Windows", "Windows"), (r"Mac OS X|Macintosh", "macOS"), (r"CrOS", "ChromeOS"), (r"Linux", "Linux"))
_BROWSERS = ((r"MicroMessenger", "WeChat"), (r"AlipayClient", "Alipay"), (r"DingTalk", "DingTalk"),
             (r"Edg(e|A|iOS)?/", "Edge"), (r"OPR/|Opera", "Opera"), (r"UCBrowser", "UC"),
             (r"QQBrowser|MQQBrowser", "QQ"), (r"Firefox/|FxiOS", "Firefox"), (r"HeadlessChrome", "Chrome"),
             (r"Chrome/|CriOS", "Chrome"), (r"Safari/", "Safari"))


def device_of(user_agent: str | None) -> dict[str, str] | None:
    """A coarse device from a user agent: {kind: phone|tablet|desktop, os, browser} (parts not found left out)."""
    if not user_agent:
        return None
    ua = user_agent[:512]
    found: dict[str, str] = {}
    if re.search(r"iPad|Tablet", ua) or (re.search(r"Android", ua) and not re.search(r"Mobile", ua)):
        found["kind"] = "tablet"
    elif re.search(r"Mobi|iPhone|iPod|Android|HarmonyOS", ua):
        found["kind"] = "phone"
    else:
        found["kind"] = "desktop"
    for pattern, name in _OS:
        if re.search(pattern, ua):
            found["os"] = name
            break
    for pattern, name in _BROWSERS:
        if re.search(pattern, ua):
            found["browser"] = name
            break
    return found


def widget_context(url: str | None, title: str | None, user_agent: str | None) -> BuyerContext | None:
    """What the widget tells of its page, plus the device: the parts that are valid (a bad page URL, such as
    ``file:`` or one too long, is left out rather than refusing the buyer's message)."""
    parts: dict[str, Any] = {"page_url": url, "page_title": (title or "").strip()[:200] or None,
                             "device": device_of(user_agent)}
    kept: dict[str, Any] = {}
    for key, value in parts.items():
        if value is None:
            continue
        try:
            BuyerContext.model_validate({key: value})
        except ValidationError:
            continue
        kept[key] = value
    return BuyerContext.model_validate(kept) if kept else None


def _preview(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None or "created_at" not in row:
        return None
    text = " ".join((row.get("text") or "").split())
    preview = {"text": text[:PREVIEW_CHARS] + ("…" if len(text) > PREVIEW_CHARS else ""),
               "created_at": row["created_at"]}
    if row.get("card"):
        preview["card"] = row["card"]
    if row.get("kind"):
        preview["kind"] = row["kind"]
    return preview


async def enrich(reception: "Reception", views: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``buyer`` (display name, entry, page, device, language, first contact, earlier conversations),
    ``last_message`` (the buyer's latest, shortened) and ``assigned`` (how and by whom, when held by an agent)
    to conversation views, in four reads."""
    views = list(views)
    if not views:
        return views
    store = reception.store
    ids = [v["conversation_id"] for v in views]
    started = await store.started_details(ids)
    assigned = await store.latest_assignments(ids)
    last = await store.last_buyer_messages(ids)
    history = await store.buyer_history(sorted({(v["channel"], v["customer_id"]) for v in views}))
    for view in views:
        cid, key = view["conversation_id"], (view["channel"], view["customer_id"])
        seen = started.get(cid, {})
        first, count = history.get(key, (None, 0))
        tag = nickname(*key)
        view["buyer"] = {
            "name": seen.get("buyer_name"), "nickname": tag,
            "display_name": seen.get("buyer_name") or f"买家·{tag}",
            "display_name_en": seen.get("buyer_name") or f"Buyer·{tag}",
            "entry": view.get("entry"), "page_url": seen.get("page_url"), "page_title": seen.get("page_title"),
            "device": seen.get("device"), "lang": view.get("lang"),
            "card": last.get(cid, {}).get("last_card"),
            "first_contact": first, "earlier_conversations": max(0, count - 1),
        }
        view["last_message"] = _preview(last.get(cid))
        if view.get("status") == "assigned" and cid in assigned:
            view["assigned"] = assigned[cid]
    return views
