"""A local emulator of the WeCom endpoints the WeCom channel calls, checking each call as WeCom documents it.

It serves ``cgi-bin/gettoken``, ``cgi-bin/kf/sync_msg``, ``cgi-bin/kf/send_msg`` and
``cgi-bin/kf/customer/batchget`` on a port of its own
and builds the encrypted callbacks WeCom would POST (with wechatpy's implementation of WeCom's scheme,
independent of the channel's own signature code). What it checks, from WeCom's documentation:

- every API call carries ``access_token`` and it is the current one (else 41001 missing, 40014 invalid,
  42001 expired), obtained from ``gettoken`` with the right ``corpid`` and ``corpsecret`` (else 40013, 40001);
- ``kf/sync_msg``: a JSON body with ``cursor`` (at most 64 bytes, one this emulator gave out), ``token`` (at
  most 128 bytes, one a callback carried), ``limit`` 1..1000, ``open_kfid`` of the account;
- ``kf/send_msg``: ``touser`` a customer who wrote to the account, ``open_kfid``, ``msgtype`` ``text`` and
  ``text.content`` present, not empty (44004), at most 2048 bytes (45002); at most 5 messages after each
  message of the customer (recorded as a violation: WeCom refuses the sixth);
- ``kf/customer/batchget``: ``external_userid_list`` of 1 to 100 ids, ``need_enter_session_context`` 0 or 1;
  customers who wrote (within 48 hours) come back in ``customer_list`` with their nickname, the others in
  ``invalid_external_userid``.

A call that breaks a rule is answered with WeCom's error code where the documentation gives one and always
recorded in `violations`, which every test checks is empty. Failures can be injected: `expire_token`
(the next call gets 42001 once) and `fail_sends` (-1, system busy).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto

CORP_ID = "ww1436e0e65a779aee"  # the values of WeCom's own callback sample (tests check its vectors too)
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
SECRET = "kf-secret-for-tests"
OPEN_KFID = "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q"


@dataclass
class Sent:
    touser: str
    open_kfid: str
    content: str


@dataclass
class Emulator:
    """The state of the emulated corp: tokens, the message log, what was sent, what broke the rules."""

    page_size: int = 1000
    expires_in: int = 7200
    messages: list[dict[str, Any]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    token_fetches: int = 0
    cursors_asked: list[str | None] = field(default_factory=list)
    sync_calls: int = 0
    expire_token: bool = False  # the next API call is answered 42001 and the current token is dead
    fail_sends: int = 0  # the next N kf/send_msg calls are answered -1 (system busy)
    nicknames: dict[str, str] = field(default_factory=dict)  # external_userid → WeChat nickname
    batchgets: list[dict[str, Any]] = field(default_factory=list)  # the kf/customer/batchget bodies
    fail_batchget: bool = False  # kf/customer/batchget answers -1 (system busy)
    url: str = ""
    _tokens: list[str] = field(default_factory=list)
    _dead: set[str] = field(default_factory=set)
    _callback_tokens: set[str] = field(default_factory=set)
    _cursors: dict[str, int] = field(default_factory=dict)
    _since_customer: dict[str, int] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    # -- what the tests do ----------------------------------------------------------------------
    def buyer_says(self, userid: str, text: str | None = None, msgtype: str = "text", **body: Any) -> str:
        """A customer writes to the account: the message joins the log; its msgid."""
        n = next(self._ids)
        msgid = f"msg{n:06d}"
        entry: dict[str, Any] = {"msgid": msgid, "open_kfid": OPEN_KFID, "external_userid": userid,
                                 "send_time": 1_700_000_000 + n, "origin": 3, "msgtype": msgtype}
        if msgtype == "text":
            entry["text"] = {"content": text, **body}
        else:
            entry[msgtype] = body
        self.messages.append(entry)
        self._since_customer[userid] = 0
        return msgid

    def event(self, userid: str, event_type: str, **data: Any) -> None:
        self.messages.append({"msgid": f"ev{next(self._ids):06d}", "msgtype": "event", "origin": 4,
                              "send_time": 1_700_000_000, "event": {"event_type": event_type,
                                                                     "open_kfid": OPEN_KFID,
                                                                     "external_userid": userid, **data}})

    def callback(self, token: str | None = None) -> tuple[dict[str, str], bytes]:
        """The query and body of the encrypted ``kf_msg_or_event`` callback WeCom would POST now."""
        n = next(self._ids)
        token = token or f"ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra{n:05d}"
        self._callback_tokens.add(token)
        inner = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><CreateTime>{1_700_000_000 + n}</CreateTime>"
                 "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
                 f"<Token><![CDATA[{token}]]></Token><OpenKfId><![CDATA[{OPEN_KFID}]]></OpenKfId></xml>")
        return signed(inner, str(1_700_000_000 + n), str(100_000 + n))

    def texts_to(self, userid: str) -> list[str]:
        return [s.content for s in self.sent if s.touser == userid]

    # -- the endpoints --------------------------------------------------------------------------
    def _bad(self, rule: str, errcode: int) -> web.Response:
        self.violations.append(rule)
        return web.json_response({"errcode": errcode, "errmsg": rule})

    def _check_token(self, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token")
        if not token:
            return self._bad(f"{request.path}: access_token missing", 41001)
        if self.expire_token:
            self.expire_token = False
            self._dead.add(token)
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        if token in self._dead:
            return self._bad(f"{request.path}: an expired access_token used again", 42001)
        if not self._tokens or token != self._tokens[-1]:
            return self._bad(f"{request.path}: access_token {token!r} is not the current one", 40014)
        return None

    async def _json(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._bad(f"{request.path}: the body is not JSON", 47001)
        if not isinstance(body, dict):
            return self._bad(f"{request.path}: the body is not a JSON object", 47001)
        return body

    async def _call(self, request: web.Request) -> dict[str, Any] | web.Response:
        """An API call's JSON body, or the answer refusing its token or its body."""
        if (refused := self._check_token(request)) is not None:
            return refused
        return await self._json(request)

    async def gettoken(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return self._bad("gettoken must be a GET", 43001)
        if request.query.get("corpid") != CORP_ID:
            return self._bad("gettoken: wrong corpid", 40013)
        if request.query.get("corpsecret") != SECRET:
            return self._bad("gettoken: wrong corpsecret", 40001)
        self.token_fetches += 1
        self._tokens.append(f"ACCESS_TOKEN_{self.token_fetches}")
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": self._tokens[-1],
                                  "expires_in": self.expires_in})

    async def sync_msg(self, request: web.Request) -> web.Response:
        body = await self._call(request)
        if isinstance(body, web.Response):
            return body
        self.sync_calls += 1
        cursor, token, limit = body.get("cursor"), body.get("token"), body.get("limit", 1000)
        self.cursors_asked.append(cursor)
        if cursor is not None and (not isinstance(cursor, str) or len(cursor.encode()) > 64
                                   or (cursor and cursor not in self._cursors)):
            return self._bad(f"sync_msg: cursor {cursor!r} was not given out", 40058)
        if token is not None and (not isinstance(token, str) or len(token.encode()) > 128
                                  or token not in self._callback_tokens):
            return self._bad(f"sync_msg: token {token!r} came with no callback", 40058)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            return self._bad(f"sync_msg: limit {limit!r} outside 1..1000", 40058)
        if body.get("open_kfid") != OPEN_KFID:
            return self._bad(f"sync_msg: open_kfid {body.get('open_kfid')!r}", 40058)
        start = self._cursors.get(cursor, 0) if cursor else 0
        end = min(len(self.messages), start + min(limit, self.page_size))
        following = f"cur{end:04d}x{next(self._ids)}"
        self._cursors[following] = end
        return web.json_response({"errcode": 0, "errmsg": "ok", "next_cursor": following,
                                  "has_more": int(end < len(self.messages)), "msg_list": self.messages[start:end]})

    async def send_msg(self, request: web.Request) -> web.Response:
        body = await self._call(request)
        if isinstance(body, web.Response):
            return body
        if self.fail_sends > 0:
            self.fail_sends -= 1
            return web.json_response({"errcode": -1, "errmsg": "system busy"})
        touser, kfid, text = body.get("touser"), body.get("open_kfid"), body.get("text")
        customers = {m.get("external_userid") for m in self.messages if m.get("origin") == 3}
        if not isinstance(touser, str) or touser not in customers:
            return self._bad(f"send_msg: touser {touser!r} never wrote to the account", 40058)
        if kfid != OPEN_KFID:
            return self._bad(f"send_msg: open_kfid {kfid!r}", 40058)
        if body.get("msgtype") != "text":
            return self._bad(f"send_msg: msgtype {body.get('msgtype')!r} (only text is sent)", 40008)
        content = text.get("content") if isinstance(text, dict) else None
        if not isinstance(content, str) or not content.strip():
            return self._bad("send_msg: text.content is empty", 44004)
        if len(content.encode("utf-8")) > 2048:
            return self._bad(f"send_msg: text.content is {len(content.encode())} bytes (over 2048)", 45002)
        self._since_customer[touser] = self._since_customer.get(touser, 0) + 1
        if self._since_customer[touser] > 5:
            self.violations.append(f"send_msg: a 6th message to {touser} since they last wrote")
        self.sent.append(Sent(touser, kfid, content))
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": f"sent{len(self.sent)}"})

    async def customer_batchget(self, request: web.Request) -> web.Response:
        body = await self._call(request)
        if isinstance(body, web.Response):
            return body
        self.batchgets.append(body)
        ids = body.get("external_userid_list")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100 or not all(isinstance(i, str) for i in ids):
            return self._bad(f"customer/batchget: external_userid_list {ids!r} is not 1-100 ids", 40058)
        if body.get("need_enter_session_context", 0) not in (0, 1):
            return self._bad("customer/batchget: need_enter_session_context is not 0 or 1", 40058)
        if self.fail_batchget:
            return web.json_response({"errcode": -1, "errmsg": "system busy"})
        wrote = {m.get("external_userid") for m in self.messages if m.get("origin") == 3}
        known = [i for i in ids if i in wrote and i in self.nicknames]  # within 48 hours of a message
        return web.json_response({"errcode": 0, "errmsg": "ok", "customer_list": [
            {"external_userid": i, "nickname": self.nicknames[i], "avatar": f"http://wx.qlogo.cn/{i}", "gender": 0,
             "unionid": ""} for i in known], "invalid_external_userid": [i for i in ids if i not in known]})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/cgi-bin/gettoken", self.gettoken)
        app.router.add_post("/cgi-bin/kf/sync_msg", self.sync_msg)
        app.router.add_post("/cgi-bin/kf/send_msg", self.send_msg)
        app.router.add_post("/cgi-bin/kf/customer/batchget", self.customer_batchget)
        return app


def signed(inner_xml: str, timestamp: str, nonce: str) -> tuple[dict[str, str], bytes]:
    """The query and body WeCom POSTs for `inner_xml`: encrypted and signed with the account's token and key."""
    envelope = WeChatCrypto(TOKEN, AES_KEY, CORP_ID).encrypt_message(inner_xml, nonce, timestamp)
    parts = {tag: envelope.split(f"<{tag}><![CDATA[", 1)[1].split("]]>", 1)[0]
             for tag in ("Encrypt", "MsgSignature", "Nonce")}
    body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{parts['Encrypt']}]]></Encrypt>"
            "<AgentID><![CDATA[]]></AgentID></xml>")
    return {"msg_signature": parts["MsgSignature"], "timestamp": timestamp, "nonce": parts["Nonce"]}, body.encode()


def config(url: str, **extra: Any) -> dict[str, Any]:
    """The ``[plugin.wecom]`` table of a shop on this emulator."""
    return {"corp_id": CORP_ID, "secret": SECRET, "token": TOKEN, "encoding_aes_key": AES_KEY,
            "open_kfid": OPEN_KFID, "api_base": url, **extra}
