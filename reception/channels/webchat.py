"""The webchat channel, a default plugin: the chat widget's buyers over a WebSocket.

A buyer is identified by a signed, expiring token (``POST
/api/v1/webchat/session``, see `webchat_token`) that the widget keeps in the
browser, so a reload keeps the conversation and nobody can read another
buyer's messages; past half its life the session hands out a fresh one. Messages carry the store's
sequence number: after a reconnect the widget asks for everything after the
last one it saw, so nothing is lost and nothing is shown twice; the buyer's
own messages carry a ``client_id`` that makes a resend idempotent. Later
messages (agent replies, queue updates) are pushed to every open socket of
the buyer and are in the history in any case.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import timedelta
from typing import Annotated, Any, Literal

from aiohttp import WSMsgType, web
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from .. import events as ev
from ..buyers import widget_context
from ..config import describe_errors
from ..core import Reception
from ..events import Event
from ..hookspecs import hookimpl
from ..http import ApiError, BadJson, decode_json, json_response, loads
from ..models import MAX_TEXT, STRICT_BODY, Card, Identifier, Inbound, Message
from ..openapi import WEBSOCKET_ANSWERS, Query, Routes
from ..pipeline import MessageConflict
from ..presence import TYPING_SECONDS, presence
from .base import Channel
from .webchat_token import TokenSigner, load_secrets

NAME = "webchat"
BAD_TOKEN = 4401
MAX_SEQ = 2**62  # a message's sequence number is a SQLite integer (63 bits); a larger `after` is no sequence

# a token as `token_for` issues it: printable ASCII, so a forged one is refused before it is compared
Token = Annotated[str, StringConstraints(max_length=200, pattern=r"^[\x21-\x7e]+$")]


class SessionBody(BaseModel):
    model_config = STRICT_BODY
    token: Token | None = None


SESSION = {"type": "object", "required": ["customer_id", "token", "expires_at", "renewed"], "properties": {
    "customer_id": {"type": "string"}, "token": {"type": "string"},
    "expires_at": {"type": "string", "format": "date-time"}, "renewed": {"type": "boolean"}}}


class Page(BaseModel):
    """The page the widget is on, as the widget reports it (kept when a conversation starts; a bad URL is left
    out, never a reason to refuse the message)."""

    model_config = STRICT_BODY
    url: str | None = Field(default=None, max_length=4096)
    title: str | None = Field(default=None, max_length=1000)


class Frame(BaseModel):
    """A frame from the widget."""

    model_config = STRICT_BODY
    type: Literal["sync", "message", "typing", "read"]
    after: int = Field(default=0, ge=0, le=MAX_SEQ)
    typing: bool = True  # a "typing" frame: false when the buyer cleared the box
    seq: int = Field(default=0, ge=0, le=MAX_SEQ)  # a "read" frame: read up to this message
    client_id: Identifier | None = None
    page: Page | None = None
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    card: Card | None = None


class Socket:
    """One open widget connection: what it has been sent so far."""

    def __init__(self, ws: web.WebSocketResponse, customer_id: str, user_agent: str | None = None) -> None:
        self.ws, self.customer_id, self.user_agent = ws, customer_id, user_agent
        self.last_seq = 0
        self.read_seq = 0  # the highest "read" this socket told
        self.lock = asyncio.Lock()


class WebchatChannel(Channel):
    """Buyers in the chat widget."""

    name = NAME

    def __init__(self, reception: Reception) -> None:
        super().__init__(reception)
        self.sockets: dict[str, set[Socket]] = {}
        self.signer: TokenSigner | None = None

    @property
    def delivers_later(self) -> bool:
        return True

    async def start(self) -> None:
        settings = self.reception.settings
        found = await load_secrets(settings, self.reception.store)
        self.signer = TokenSigner(found, timedelta(days=settings.webchat.token_days))
        self.reception.listen(self.heard)
        presence(self.reception).listen(self.notice)

    async def stop(self) -> None:
        for sockets in list(self.sockets.values()):
            for socket in list(sockets):
                await socket.ws.close()

    def routes(self, route: Routes) -> None:
        route("POST", "/api/v1/webchat/session", self._session, "A chat-widget buyer's identity: new, or resumed "
              "from a token", body=SessionBody, body_required=False, response=SESSION, errors=(403,),
              description="No body, or no token, or a forged or expired one: a new buyer. A valid token past half "
              "its life ([webchat] token_days) is replaced by a fresh one for the same buyer (renewed: true).")
        route.preflight("/api/v1/webchat/session", self.preflight)
        route("GET", "/api/v1/webchat/ws", self.websocket, "The chat widget's WebSocket (see docs/web-api.md)",
              query=(Query("token", description="the buyer's token from the session; a missing, wrong or expired "
                           "one closes the socket with 4401"),),
              status=101, responses=WEBSOCKET_ANSWERS, errors=(400, 403))

    async def _session(self, request: web.Request) -> web.Response:
        try:
            return await self.session(request)
        except ValidationError as exc:
            raise ApiError(422, "invalid_field", describe_errors(exc)) from None

    # -- identity ---------------------------------------------------------------------------
    def _signer(self) -> TokenSigner:
        if self.signer is None:
            raise RuntimeError("the webchat channel has not started")
        return self.signer

    def token_for(self, customer_id: str) -> str:
        """A fresh token for the buyer, signed with the current secret."""
        return self._signer().issue(customer_id, self.reception.clock.now())[0]

    def customer_of(self, token: str | None) -> str | None:
        """The buyer a token was issued to, or None for a forged, malformed or expired token."""
        verified = self._signer().verify(token, self.reception.clock.now())
        return verified.customer_id if verified else None

    # -- outgoing ---------------------------------------------------------------------------
    def frame(self, message: Message) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "message", "seq": message.id, "conversation_id": message.conversation_id,
                                "sender": message.sender, "text": message.text,
                                "created_at": message.created_at.isoformat()}
        if message.sender == "buyer" and message.message_id:
            data["client_id"] = message.message_id
        if message.kind:
            data["kind"] = message.kind
        if message.card:
            data["card"] = message.card.model_dump()
        if message.image:
            data["image"] = message.image.view()
        if message.agent_id and (agent := self.reception.router.book.get(message.agent_id)) is not None:
            data["agent_name"] = agent.name
        return data

    async def push_new(self, socket: Socket) -> None:
        """Send the socket every message of its buyer it has not been sent yet."""
        async with socket.lock:
            messages = await self.reception.store.buyer_messages_after(NAME, socket.customer_id, socket.last_seq)
            for message in messages:
                if socket.ws.closed:
                    return
                await socket.ws.send_json(self.frame(message), dumps=_dumps)
                socket.last_seq = max(socket.last_seq, message.id or 0)

    async def push_all(self, customer_id: str) -> None:
        for socket in list(self.sockets.get(customer_id, ())):
            try:
                await self.push_new(socket)
            except ConnectionError:
                pass  # the socket is going away; the buyer syncs on reconnect

    async def deliver(self, payload: dict[str, Any]) -> None:
        # the message is stored; a buyer who is not connected gets it on the next sync
        await self.push_all(payload["customer_id"])

    async def heard(self, event: Event) -> None:
        """A message stored on another instance of the shop (an agent's reply there) reaches sockets here."""
        if event.name == ev.MESSAGE_SENT and event.customer_id in self.sockets:
            await self.push_all(event.customer_id)

    async def notice(self, notice: dict[str, Any]) -> None:
        """An ephemeral notice for a buyer here (`reception.presence`): their agent is typing."""
        if notice.get("to") != "buyer" or notice.get("channel") != NAME or notice.get("kind") != "typing":
            return
        frame = {"type": "typing", "sender": "agent", "typing": bool(notice.get("typing")),
                 "expires_in": TYPING_SECONDS}
        for socket in list(self.sockets.get(str(notice.get("customer_id")), ())):
            if not socket.ws.closed:
                try:
                    await socket.ws.send_json(frame)
                except ConnectionError:
                    pass

    async def _typing(self, socket: Socket, typing: bool) -> None:
        """The buyer is typing (or cleared the box): told to the agent who holds the conversation, if any."""
        hub = presence(self.reception)
        if not hub.allow_typing(f"{NAME}:{socket.customer_id}", "buyer", typing):
            return
        conv = await self.reception.store.latest_conversation(NAME, socket.customer_id)
        if conv is not None and conv.status == "assigned" and conv.agent_id:
            await hub.tell({"kind": "typing", "to": "agent", "agent_id": conv.agent_id,
                            "conversation_id": conv.id, "typing": typing})

    async def _read(self, socket: Socket, seq: int) -> None:
        """The buyer has seen the messages up to `seq` (never past what this socket was sent): kept, and told
        to the agent who holds the conversation (the workbench's read receipts)."""
        seq = min(seq, socket.last_seq)
        if seq <= socket.read_seq:
            return
        socket.read_seq = seq
        conv = await self.reception.store.latest_conversation(NAME, socket.customer_id)
        if conv is None:
            return
        store = self.reception.store
        tx = store.transaction()
        tx.mark_read(conv.id, "buyer", seq, self.reception.clock.now())
        await store.commit(tx)
        if conv.status == "assigned" and conv.agent_id:
            await presence(self.reception).tell({"kind": "read", "to": "agent", "agent_id": conv.agent_id,
                                                 "conversation_id": conv.id, "seq": seq})

    # -- incoming ---------------------------------------------------------------------------
    async def session(self, request: web.Request) -> web.Response:
        if not self._origin_ok(request):
            raise ApiError(403, "origin_not_allowed", "this page may not embed the chat widget")
        raw = await request.read()
        body = SessionBody.model_validate(decode_json(raw)) if raw else SessionBody()  # no body: a new buyer
        signer, now = self._signer(), self.reception.clock.now()
        verified = signer.verify(body.token, now)  # expired: like no token, a new buyer
        if verified is not None and verified.expires is not None and not signer.due_for_renewal(verified, now):
            # still fresh: the same token back
            customer_id, token, expires = verified.customer_id, body.token, verified.expires
        else:  # a new buyer, or one whose token is past half its life: a fresh token
            customer_id = verified.customer_id if verified else f"wc_{secrets.token_hex(12)}"
            token, expires = signer.issue(customer_id, now)
        response = json_response({"customer_id": customer_id, "token": token, "expires_at": expires.isoformat(),
                                  "renewed": verified is not None and token != body.token})
        return self._cors(request, response)

    def _origin_ok(self, request: web.Request) -> bool:
        allowed = self.reception.settings.webchat.allowed_origins
        origin = request.headers.get("Origin")
        return not allowed or origin is None or origin in allowed

    def _cors(self, request: web.Request, response: web.Response) -> web.Response:
        """Let the shop's own pages (another origin) call the session endpoint; no cookies are involved."""
        origin = request.headers.get("Origin")
        if origin and self._origin_ok(request):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Vary"] = "Origin"
        return response

    async def preflight(self, request: web.Request) -> web.Response:
        return self._cors(request, web.Response(status=204))

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not self._origin_ok(request):
            raise ApiError(403, "origin_not_allowed", "this page may not embed the chat widget")
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024)
        await ws.prepare(request)
        customer_id = self.customer_of(request.query.get("token"))
        if customer_id is None:
            await ws.close(code=BAD_TOKEN, message=b"invalid token")
            return ws
        socket = Socket(ws, customer_id, request.headers.get("User-Agent"))
        self.sockets.setdefault(customer_id, set()).add(socket)
        try:
            await ws.send_json({"type": "ready", "customer_id": customer_id})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_frame(socket, msg.data)
        except ConnectionError:
            pass  # the buyer went away while being answered; everything is stored and synced on reconnect
        finally:
            self.sockets.get(customer_id, set()).discard(socket)
            if not self.sockets.get(customer_id):
                self.sockets.pop(customer_id, None)
        return ws

    async def _on_frame(self, socket: Socket, raw: str) -> None:
        data: Any = None
        try:
            data = loads(raw)
            frame = Frame.model_validate(data)
        except (BadJson, ValidationError) as exc:
            reason = describe_errors(exc) if isinstance(exc, ValidationError) else f"the frame is {exc}"
            error = {"type": "error", "code": "invalid_frame", "message": reason}
            if isinstance(exc, ValidationError) and isinstance(data, dict) and isinstance(data.get("client_id"), str):
                error["client_id"] = data["client_id"][:128]
            await socket.ws.send_json(error, dumps=_dumps)
            return
        if frame.type == "sync":
            socket.last_seq = frame.after
            await self.push_new(socket)
            conv = await self.reception.store.latest_conversation(NAME, socket.customer_id)
            await socket.ws.send_json({"type": "synced", "status": conv.status if conv else "bot"})
            return
        if frame.type == "typing":  # ephemeral, never answered (see reception.presence)
            await self._typing(socket, frame.typing)
            return
        if frame.type == "read":  # never answered
            await self._read(socket, frame.seq)
            return
        presence(self.reception).stopped(f"{NAME}:{socket.customer_id}", "buyer")
        try:
            context = widget_context(frame.page.url if frame.page else None, frame.page.title if frame.page else None,
                                     socket.user_agent)
            inbound = Inbound(channel=NAME, customer_id=socket.customer_id, message_id=frame.client_id, context=context,
                              text=frame.text, card=frame.card)
        except ValidationError as exc:
            await socket.ws.send_json({"type": "error", "code": "invalid_message", "message": describe_errors(exc),
                                       "client_id": frame.client_id}, dumps=_dumps)
            return
        try:
            outcome = await self.reception.receive(inbound)
        except MessageConflict as exc:  # cannot happen with the widget's own ids, but never crash the socket
            await socket.ws.send_json({"type": "error", "code": "message_id_conflict", "message": str(exc),
                                       "client_id": frame.client_id})
            return
        await self.push_all(socket.customer_id)
        handover = outcome.handover.model_dump(include={"reason"}) if outcome.handover else None
        await socket.ws.send_json({"type": "status", "status": outcome.status, "handover": handover})


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@hookimpl(trylast=True)
def register_channels(register: Any) -> None:
    register(WebchatChannel)
