"""HTTP edges: JSON errors, body validation and authentication shared by every route.

Every error under ``/api/`` is ``{"error": {"code": "…", "message": "…"}}``
with a 4xx status; an unexpected failure is logged and answered as a plain
``500 internal_error`` without a traceback, and a database out of reach as
``503 store_unavailable`` (one log line), unless the answer had begun (an
open WebSocket is closed with 1011 instead). JSON bodies go through `loads`,
which turns every way a text can fail to be accepted JSON into `BadJson`.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, TypeVar

from aiohttp import WSCloseCode, web
from pydantic import BaseModel, ValidationError

from . import auth
from .config import describe_errors
from .logs import REQUEST_ID
from .store import StoreUnavailable

log = logging.getLogger("reception.http")
M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """An error answered to the client with `status` and a machine-readable `code`.

    `headers` go out with the answer (a 405 keeps its ``Allow``).
    """

    def __init__(self, status: int, code: str, message: str, fields: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields
        self.headers = headers or {}

    def response(self) -> web.Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        if (request_id := REQUEST_ID.get()) is not None:  # to find this answer in the logs
            error["request_id"] = request_id
        return web.json_response({"error": error}, status=self.status, dumps=_dumps, headers=self.headers)


class BadJson(ValueError):
    """Text that is not JSON we accept; the message says what is wrong, for the client."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_response(body: Any, status: int = 200) -> web.Response:
    """A JSON response that keeps Chinese readable."""
    return web.json_response(body, status=status, dumps=_dumps)


# headers of an aiohttp HTTP error that describe the error itself, not its (replaced) body
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
# the response a handler prepared (headers sent, e.g. a WebSocket upgrade): an error after that cannot be answered
_PREPARED: Any = web.RequestKey("reception_prepared", web.StreamResponse) if hasattr(web, "RequestKey") \
    else "reception_prepared"

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}


@web.middleware
async def errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn every failure into a JSON error; never leak a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        kept = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
        return ApiError(exc.status, code, exc.reason, headers=kept).response()
    except Exception as exc:
        unavailable = isinstance(exc, StoreUnavailable)
        if unavailable:  # PostgreSQL restarting, the network down: expected now and then, and no bug to trace
            log.warning("%s %s: %s", request.method, request.path, exc)
        else:
            log.exception("unexpected error on %s %s", request.method, request.path)
        prepared = request.get(_PREPARED)
        if prepared is not None:  # the answer has begun (a WebSocket is open): a 500 would corrupt it
            if isinstance(prepared, web.WebSocketResponse) and not prepared.closed:
                await prepared.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")
            return prepared
        if unavailable:
            return ApiError(503, "store_unavailable", "the database is unavailable; try again in a moment").response()
        return ApiError(500, "internal_error", "internal error; nothing was stored for this request").response()


async def remember_prepared(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: note that `request` has begun its answer, for `errors`."""
    request[_PREPARED] = response


def loads(text: str) -> Any:
    """Parse JSON text, or raise `BadJson` saying what is wrong: the syntax, too deep a nesting, too long a number."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadJson(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise BadJson("not accepted: its JSON is nested too deeply") from None
    except ValueError as exc:  # Python's limit on the digits of an integer (CVE-2020-10735)
        if "digits" in str(exc):
            raise BadJson(f"not accepted: it holds a number with more than {sys.get_int_max_str_digits()} "
                          "digits") from None
        raise BadJson(f"not valid JSON: {exc}") from None


def decode_json(raw: bytes) -> Any:
    """Parse a raw body as UTF-8 JSON, or raise a 400 `ApiError` saying which."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_encoding", f"the body is not valid UTF-8 (byte {exc.start})") from None
    try:
        return loads(text)
    except BadJson as exc:
        raise ApiError(400, "invalid_json", f"the body is {exc}") from None


def validate(model: type[M], data: Any, **extra: Any) -> M:
    """Validate a decoded body into `model`, or raise a 422 `ApiError` naming each field."""
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_body", "the body must be a JSON object")
    try:
        return model.model_validate({**data, **extra})
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"]}
            for err in exc.errors()
        ]
        raise ApiError(422, "invalid_field", describe_errors(exc), fields) from None


async def read_body(request: web.Request, model: type[M]) -> M:
    """Read, decode and validate a JSON request body."""
    return validate(model, decode_json(await request.read()))


def require_admin(request: web.Request, admin_digest: str | None) -> None:
    """Raise 401 unless the request carries the admin bearer token."""
    if not auth.matches(auth.bearer(request), admin_digest):
        raise ApiError(401, "unauthorized", "a valid admin bearer token is required")


@dataclass(frozen=True)
class Caller:
    """Who is calling: the admin, or one agent (by id)."""

    admin: bool
    agent_id: str | None = None

    def may_act_for(self, agent_id: str | None) -> bool:
        return self.admin or (agent_id is not None and agent_id == self.agent_id)


def caller(request: web.Request, admin_digest: str | None, agent_digests: dict[str, str]) -> Caller:
    """The admin or the agent whose bearer token the request carries; 401 otherwise.

    Every digest is compared in constant time, whoever matches.
    """
    token = auth.bearer(request)
    if auth.matches(token, admin_digest):
        return Caller(admin=True)
    found = None
    for agent_id, digest in agent_digests.items():
        if auth.matches(token, digest):
            found = agent_id
    if found is None:
        raise ApiError(401, "unauthorized", "a valid agent or admin bearer token is required")
    return Caller(admin=False, agent_id=found)
