"""HTTP edges: JSON errors, body validation and authentication shared by every route.

Every error under ``/api/`` is ``{"error": {"code": "…", "message": "…"}}``
with a 4xx status; an unexpected failure is logged and answered as a plain
``500 internal_error`` without a traceback.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from . import auth
from .config import describe_errors

log = logging.getLogger("reception.http")
M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """An error answered to the client with `status` and a machine-readable `code`."""

    def __init__(self, status: int, code: str, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def response(self) -> web.Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return web.json_response({"error": error}, status=self.status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_response(body: Any, status: int = 200) -> web.Response:
    """A JSON response that keeps Chinese readable."""
    return web.json_response(body, status=status, dumps=_dumps)


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}


@web.middleware
async def errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Turn every failure into a JSON error; never leak a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return ApiError(exc.status, code, exc.reason).response()
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return ApiError(500, "internal_error", "internal error; nothing was stored for this request").response()


def decode_json(raw: bytes) -> Any:
    """Parse a raw body as UTF-8 JSON, or raise a 400 `ApiError` saying which."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_encoding", f"the body is not valid UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc.msg} at line {exc.lineno} "
                       f"column {exc.colno}") from None


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
