"""WeCom's server API as the channel uses it: the access token, ``kf/sync_msg`` and ``kf/send_msg``.

The access token (``cgi-bin/gettoken?corpid&corpsecret``) is cached until
``expires_in`` minus ``token_margin_seconds`` on the reception's clock, and
fetched again at once when WeCom says it is invalid (40014) or expired
(42001); the call is then repeated once. Every other failure is a
`WecomError`: WeCom's ``errcode`` and ``errmsg``, or what went wrong on the
way. Neither the secret nor the access token is ever put in an error or a log.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from reception.plugin import Reception

from .config import WecomSettings

MAX_ANSWER = 4 * 1024 * 1024  # bytes; a sync_msg page of 1,000 messages is far below
STALE_TOKEN = (40014, 42001)  # invalid access_token, access_token expired
TEXT_LIMIT = 2048  # bytes of text.content WeCom takes in one kf/send_msg
BATCHGET = 100  # external_userids WeCom takes in one kf/customer/batchget
_SECRET = re.compile(r"(access_token|corpsecret)=[^&\s]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


async def read_limited(stream: aiohttp.StreamReader, limit: int) -> bytes | None:
    """The whole of `stream`, or None as soon as it is over `limit` bytes."""
    chunks, size = [], 0
    async for chunk in stream.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _clean(text: object, limit: int = 200) -> str:
    """Text from WeCom or an exception, safe for a log line: no secrets, no control characters, bounded."""
    return _CONTROL.sub(" ", _SECRET.sub(r"\1=…", str(text)))[:limit]


class WecomError(RuntimeError):
    """A WeCom API call failed: `errcode` is WeCom's code, or None when no answer came."""

    def __init__(self, path: str, errcode: int | None, message: str) -> None:
        text = f"{path}: errcode {errcode} {message}" if errcode is not None else f"{path}: {message}"
        super().__init__(_clean(text, 300))
        self.errcode = errcode


class WecomApi:
    """One corp's API client: a shared HTTP session and the cached access token."""

    def __init__(self, settings: WecomSettings, reception: Reception) -> None:
        self.settings = settings
        self.reception = reception
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._expires: datetime | None = None
        self._lock: asyncio.Lock | None = None
        self.token_fetches = 0  # how often gettoken was called (tests, logs)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, path: str, params: dict[str, str],
                       body: dict[str, Any] | None = None) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds))
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"} if data is not None else {}
        try:
            async with self._session.request(method, self.settings.api_url(path), params=params, data=data,
                                             headers=headers) as response:
                if response.status != 200:
                    raise WecomError(path, None, f"HTTP {response.status}")
                raw = await read_limited(response.content, MAX_ANSWER)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise WecomError(path, None, f"{type(exc).__name__} {_clean(exc)}") from None
        if raw is None:
            raise WecomError(path, None, "the answer is too large")
        try:
            answer = json.loads(raw)
        except ValueError:
            raise WecomError(path, None, "the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise WecomError(path, None, "the answer is not a JSON object")
        return answer

    @staticmethod
    def _errcode(answer: dict[str, Any]) -> int:
        code = answer.get("errcode", 0)
        return code if isinstance(code, int) else -1

    async def access_token(self, stale: str | None = None) -> str:
        """The cached access token, fetched when there is none, it is due, or it is `stale` (WeCom refused it)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            now = self.reception.clock.now()
            fresh = self._token is not None and self._expires is not None and now < self._expires
            if fresh and (stale is None or stale != self._token):
                assert self._token is not None
                return self._token
            self._token = None
            answer = await self._request("GET", "gettoken", {"corpid": self.settings.corp_id,
                                                              "corpsecret": self.settings.secret.get_secret_value()})
            self.token_fetches += 1
            code = self._errcode(answer)
            token, expires_in = answer.get("access_token"), answer.get("expires_in", 7200)
            if code != 0:
                raise WecomError("gettoken", code, _clean(answer.get("errmsg", "")))
            if not isinstance(token, str) or not token or not isinstance(expires_in, int):
                raise WecomError("gettoken", None, "the answer has no access_token or expires_in")
            self._token = token
            self._expires = now + timedelta(seconds=max(0, expires_in - self.settings.token_margin_seconds))
            return token

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to ``cgi-bin/<path>`` with the access token; the answer, or `WecomError` unless errcode 0."""
        token = await self.access_token()
        for attempt in range(2):
            answer = await self._request("POST", path, {"access_token": token}, body)
            code = self._errcode(answer)
            if code in STALE_TOKEN and attempt == 0:
                token = await self.access_token(stale=token)
                continue
            if code != 0:
                raise WecomError(path, code, _clean(answer.get("errmsg", "")))
            return answer
        raise AssertionError("unreachable")

    async def sync_msg(self, cursor: str | None, token: str | None, open_kfid: str) -> dict[str, Any]:
        """One page of ``kf/sync_msg`` after `cursor` (None: from the start), with the callback's `token`."""
        body: dict[str, Any] = {"limit": self.settings.sync_limit, "open_kfid": open_kfid}
        if cursor:
            body["cursor"] = cursor
        if token:
            body["token"] = token
        return await self.call("kf/sync_msg", body)

    async def nicknames(self, external_userids: list[str]) -> dict[str, str]:
        """The WeChat nickname of each buyer WeCom knows (``kf/customer/batchget``, at most `BATCHGET` ids a
        call); buyers it does not know (no session in the last 48 hours) are left out."""
        found: dict[str, str] = {}
        for start in range(0, len(external_userids), BATCHGET):
            answer = await self.call("kf/customer/batchget", {
                "external_userid_list": external_userids[start:start + BATCHGET], "need_enter_session_context": 0})
            customers = answer.get("customer_list")
            for customer in customers if isinstance(customers, list) else ():
                if isinstance(customer, dict) and isinstance(customer.get("external_userid"), str):
                    name = _clean(customer.get("nickname", ""), 64).strip()
                    if name:
                        found[customer["external_userid"]] = name
        return found

    async def send_text(self, touser: str, open_kfid: str, text: str) -> None:
        """Send `text` to the buyer with ``kf/send_msg``, in as many messages as WeCom's size limit needs."""
        for part in split_text(text):
            await self.call("kf/send_msg", {"touser": touser, "open_kfid": open_kfid, "msgtype": "text",
                                            "text": {"content": part}})


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` in parts of at most `limit` UTF-8 bytes, cut after a line break where one is near."""
    parts: list[str] = []
    rest = text.strip() or " "
    while len(rest.encode("utf-8")) > limit:
        size, cut = 0, 0
        for i, char in enumerate(rest):
            size += len(char.encode("utf-8"))
            if size > limit:
                break
            cut = i + 1
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline + 1
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return [p for p in parts if p]
