"""`WecomChannel`: buyers of a WeCom customer-service account in, every reply out through ``kf/send_msg``.

In: WeCom calls the callback URL (``kf_msg_or_event``, encrypted) when
there is something new; the channel then pulls it with ``kf/sync_msg`` from
the cursor kept in the shop's database, page after page while ``has_more``,
and hands each buyer message to ``reception.receive`` with its ``msgid`` as
``message_id``, so a page read twice (a crash before the cursor was saved)
changes nothing. Pulls for one account run one at a time, across instances.

Out: WeCom has no synchronous reply, so the channel pushes everything: the
bot's replies and notices of the exchange (``pushes_replies``) and later
messages (an agent's reply, a queue notice, the rating request) all go
through the outbox to `deliver`, which calls ``kf/send_msg`` and raises
`DeliveryFailed` to be tried again, with this channel's own retry policy.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiohttp import web

from reception.plugin import (
    ApiError,
    Channel,
    Conversation,
    DeliveryFailed,
    Inbound,
    Message,
    Query,
    Reception,
    Routes,
    load_value,
    save_value,
)

from . import messages
from .api import WecomApi, WecomError, read_limited
from .config import NAME, WecomSettings, load
from .crypto import MAX_XML, CallbackRefused, Crypto, parse_xml

log = logging.getLogger("reception.wecom")

PATH = "/api/v1/wecom/callback"
_SIGNED = (Query("msg_signature", required=True, description="SHA-1 of the token, timestamp, nonce and ciphertext"),
           Query("timestamp", required=True), Query("nonce", required=True))

MAX_PAGES = 1000  # per pull: a cursor that never moves cannot spin for ever
NAMES_KEPT = 10_000  # buyers' nicknames remembered by an instance (then forgotten and asked again)
KF_EVENT = "kf_msg_or_event"


class StopSync(Exception):
    """A page could not be taken in whole; its cursor is not saved, so the next pull reads it again."""


class WecomChannel(Channel):
    """The WeCom customer-service channel; inert (no routes, nothing sent) without ``[plugin.wecom]``."""

    name = NAME

    def __init__(self, reception: Reception) -> None:
        super().__init__(reception)
        self.settings: WecomSettings | None = load(reception)
        self.crypto: Crypto | None = None
        self.api: WecomApi | None = None
        self._product: re.Pattern[str] | None = None
        self._tokens: dict[str, str | None] = {}  # open_kfid → the newest callback token not pulled yet
        self._pulls: dict[str, asyncio.Task[None]] = {}
        self._names: dict[str, str | None] = {}  # external_userid → WeChat nickname (None: WeCom gave none)
        self.pushes_replies = self.settings is not None  # no synchronous reply: the bot's replies go out too
        if self.settings is not None:
            self.crypto = Crypto(self.settings.token, self.settings.encoding_aes_key, self.settings.corp_id)
            self.api = WecomApi(self.settings, reception)
            self.max_attempts = self.settings.max_attempts
            if self.settings.product_pattern:
                self._product = re.compile(self.settings.product_pattern)

    # -- what the hub asks of a channel --------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.settings is not None

    @property
    def delivers_later(self) -> bool:
        return self.active

    def retry_after(self, attempts: int) -> float:
        assert self.settings is not None
        return min(self.settings.retry_max_seconds, self.settings.retry_base_seconds * 2.0 ** (attempts - 1))

    def payload(self, conversation: Conversation, message: Message) -> dict[str, Any]:
        assert self.settings is not None
        return {"touser": conversation.customer_id, "open_kfid": self.settings.open_kfid, "text": message.text,
                "conversation_id": conversation.id, "sender": message.sender}

    async def deliver(self, payload: dict[str, Any]) -> None:
        if self.api is None:
            raise DeliveryFailed("the WeCom channel is not configured ([plugin.wecom])")
        try:
            await self.api.send_text(str(payload["touser"]), str(payload["open_kfid"]), str(payload["text"]))
        except WecomError as exc:
            raise DeliveryFailed(str(exc)) from None

    def routes(self, route: Routes) -> None:
        if not self.active:
            return
        route("GET", PATH, self._verify_url, "WeCom checks the callback URL: the decrypted echostr, as plain text",
              auth=None, errors=(400, 401), media="text/plain",
              query=(*_SIGNED, Query("echostr", required=True, description="encrypted; answered decrypted")),
              description="Set this URL, the Token and the EncodingAESKey in WeCom's admin console (微信客服 → API"
                          " → 回调配置). The signature is checked in constant time; see docs/wecom.md.")
        route("POST", PATH, self._callback, "WeCom's encrypted event (kf_msg_or_event): new messages to pull",
              auth=None, errors=(400, 401, 413), media="text/plain", query=_SIGNED,
              description="The body is WeCom's XML with Encrypt. Answered `success` at once; the messages are then "
                          "pulled with kf/sync_msg from the cursor kept in the database.")

    async def start(self) -> None:
        if self.settings is not None and self.settings.pull_on_start:
            self.reception.lead(self.catch_up, name="wecom-catch-up")  # on one instance of the shop

    async def _verify_url(self, request: web.Request) -> web.Response:
        return await self._refusing(self.verify_url, request)

    async def _callback(self, request: web.Request) -> web.Response:
        return await self._refusing(self.callback, request)

    async def _refusing(self, handler: Any, request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except CallbackRefused as exc:  # one line in the log, a JSON error out, never a traceback
            log.warning("wecom: %s %s refused: %s", request.method, PATH, exc)
            raise ApiError(exc.status, exc.code, str(exc)) from None

    async def close(self) -> None:
        for task in list(self._pulls.values()):
            task.cancel()
        await asyncio.gather(*self._pulls.values(), return_exceptions=True)
        if self.api is not None:
            await self.api.close()

    # -- the callback URL ----------------------------------------------------------------------
    async def verify_url(self, request: web.Request) -> web.Response:
        """GET: WeCom checks the URL; answer the decrypted ``echostr`` as it is."""
        assert self.crypto is not None
        query = request.query
        echostr = query.get("echostr", "").replace(" ", "+")  # base64 has no spaces: a '+' decoded as one
        if not echostr:
            raise CallbackRefused(400, "missing_parameter", "echostr is required")
        plain = self.crypto.open(query.get("msg_signature"), query.get("timestamp"), query.get("nonce"), echostr)
        return web.Response(text=plain, content_type="text/plain")

    async def callback(self, request: web.Request) -> web.Response:
        """POST: an encrypted event; a ``kf_msg_or_event`` starts a pull. Answered at once, before the pull."""
        assert self.crypto is not None and self.settings is not None
        if request.content_length is not None and request.content_length > MAX_XML:
            raise CallbackRefused(413, "body_too_large", f"the body is over {MAX_XML} bytes")
        raw = await read_limited(request.content, MAX_XML)
        if raw is None:
            raise CallbackRefused(413, "body_too_large", f"the body is over {MAX_XML} bytes")
        envelope = parse_xml(raw)
        query = request.query
        event = parse_xml(self.crypto.open(query.get("msg_signature"), query.get("timestamp"), query.get("nonce"),
                                           envelope.get("Encrypt", "")))
        if event.get("Event") == KF_EVENT:
            kfid = event.get("OpenKfId") or self.settings.open_kfid
            if kfid == self.settings.open_kfid:
                self.pull(event.get("Token") or None)
            else:
                log.info("wecom: a callback for another account (%s) was ignored", kfid[:64])
        return web.Response(text="success", content_type="text/plain")

    # -- pulling messages ----------------------------------------------------------------------
    def pull(self, token: str | None = None) -> asyncio.Task[None]:
        """Pull new messages soon (now, or right after the pull under way); the task that will do it."""
        assert self.settings is not None
        kfid = self.settings.open_kfid
        self._tokens[kfid] = token or self._tokens.get(kfid)
        task = self._pulls.get(kfid)
        if task is None or task.done():
            task = self.reception.spawn(self._pull_loop(kfid), name=f"wecom-pull-{kfid}")
            self._pulls[kfid] = task
        return task

    async def catch_up(self) -> None:
        """Pull what came while the shop was down (no callback token: WeCom rate-limits these, so once at start)."""
        await self.pull(None)

    async def idle(self) -> None:
        """Wait until no pull is under way or due (tests; a clean stop)."""
        while any(not task.done() for task in self._pulls.values()):
            await asyncio.gather(*self._pulls.values(), return_exceptions=True)

    async def _pull_loop(self, kfid: str) -> None:
        while kfid in self._tokens:
            token = self._tokens.pop(kfid)
            try:
                await self.sync(kfid, token)
            except (WecomError, StopSync) as exc:
                log.warning("wecom: pulling messages stopped, the next callback resumes from the saved cursor: %s",
                            exc)
            except Exception:  # a bug: logged with its traceback, the next callback tries again
                log.exception("wecom: pulling messages failed")

    async def sync(self, kfid: str, token: str | None) -> int:
        """Pull every page after the saved cursor and hand each buyer message on; how many were handed on."""
        assert self.api is not None
        handed = 0
        async with self.reception.lock(f"{NAME}-sync\x00{kfid}"):
            cursor = await load_value(self.reception, NAME, f"cursor:{kfid}")
            for _ in range(MAX_PAGES):
                page = await self.api.sync_msg(cursor, token, kfid)
                items = page.get("msg_list") or []
                if not isinstance(items, list):
                    raise WecomError("kf/sync_msg", None, "msg_list is not a list")
                inbounds = [i for i in (messages.to_inbound(item, kfid, self._product) for item in items) if i]
                await self._name(inbounds)
                for inbound in inbounds:
                    handed += await self._hand_on(inbound)
                following = page.get("next_cursor")
                if isinstance(following, str) and following and following != cursor:
                    await save_value(self.reception, NAME, f"cursor:{kfid}", following)
                    cursor = following
                elif page.get("has_more"):
                    break  # more, yet no new cursor: stop rather than read the same page again
                if not page.get("has_more"):
                    break
        return handed

    async def _name(self, inbounds: list[Inbound]) -> None:
        """Give each message its buyer's WeChat nickname (shown to agents), asking WeCom once per page for the
        buyers this instance has not asked about yet. Best effort: without an answer the buyers keep the
        nickname the shop makes up (买家·XXXX), and their messages go on."""
        assert self.api is not None
        unknown = list(dict.fromkeys(i.customer_id for i in inbounds if i.customer_id not in self._names))
        if unknown:
            try:
                found = await self.api.nicknames(unknown)
            except WecomError as exc:
                log.warning("wecom: buyers' nicknames not read (kf/customer/batchget): %s", exc)
                return
            if len(self._names) + len(unknown) > NAMES_KEPT:
                self._names.clear()
            self._names.update({customer: found.get(customer) for customer in unknown})
        for i, inbound in enumerate(inbounds):
            if self._names.get(inbound.customer_id):
                inbounds[i] = inbound.model_copy(update={"customer_name": self._names[inbound.customer_id]})

    async def _hand_on(self, inbound: Inbound) -> int:
        try:
            await self.reception.receive(inbound)
        except ValueError as exc:  # refused for what it is (its msgid used by another buyer …): skipped
            log.warning("wecom: message %s skipped: %s", inbound.message_id, str(exc)[:200])
            return 0
        except Exception as exc:  # the store out of reach …: stop before the cursor moves past it
            raise StopSync(f"message {inbound.message_id}: {type(exc).__name__}: {str(exc)[:200]}") from None
        return 1
