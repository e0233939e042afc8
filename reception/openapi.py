"""The OpenAPI 3.1 document, built from the routes as they are added and the pydantic models they validate.

Every route is added through `route`, which records what the document needs
(summary, body model, response shape, who may call it), so the document can
never miss an endpoint. The `register_routes` hook hands plugins a `Routes`,
which adds routes only this way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Literal

from aiohttp import web
from pydantic import BaseModel

from .version import __version__

Auth = Literal["admin", "agent", "signature", "optional", None]  # optional: a bearer token when configured
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Query:
    """A query parameter: its name, its JSON schema (a string by default) and what it means."""

    name: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    description: str | None = None
    required: bool = False


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | dict[str, Any] | None
    auth: Auth
    errors: tuple[int, ...]
    query: tuple[Query, ...]
    description: str | None = None
    body_required: bool = True
    media: str = "application/json"  # of the success response
    status: int = 200  # of the success response
    responses: tuple[tuple[int, str], ...] = ()  # other answers without a JSON error body (101 …)


OPERATIONS = web.AppKey("reception_openapi_operations", list)

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}}}}},
}
# A WebSocket route answers a handshake with 101; a plain HTTP request gets a JSON 400 (listed in its errors).
WEBSOCKET_ANSWERS = {101: "the WebSocket is open (then a wrong token closes it with code 4401)"}
_SIGNATURE_TEXT = (
    "Needed when [webhook] secret is set. Two forms: the timestamped one (recommended: a captured request "
    "cannot be replayed) `t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">`, accepted while t is "
    "within [webhook] signature_tolerance_seconds (300) of the server's time (else 401 stale_signature); and "
    "the plain one `sha256=<hex HMAC-SHA256 of the raw body>` (refused with 401 timestamp_required when "
    "[webhook] require_timestamp is on). A missing, malformed or wrong signature: 401 bad_signature. "
    "Callbacks to [webhook] callback_url carry both: X-Reception-Signature (plain) and "
    "X-Reception-Signature-Timestamped (t=…,v1=…). See docs/security.md.")
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "admin": [{"bearer": []}], "agent": [{"bearer": []}], "signature": [{"signature": []}, {}],
    "optional": [{"bearer": []}, {}]}


def route(app: web.Application, method: str, path: str, handler: Handler, summary: str, *,
          body: type[BaseModel] | None = None, response: type[BaseModel] | dict[str, Any] | None = None,
          auth: Auth = None, errors: tuple[int, ...] = (), query: tuple[str | Query, ...] = (),
          description: str | None = None, body_required: bool = True, media: str = "application/json",
          status: int = 200, responses: dict[int, str] | None = None) -> None:
    """Add a route to `app` and describe it in the OpenAPI document.

    `errors` are the statuses answered with a JSON error; 400, 413 and 422
    are added for a route with a `body`, and 401 for one that needs a token or
    a signature. `query` names string parameters or gives `Query` with a
    schema. `media` and `status` describe the success response (`response`
    is its schema); `responses` adds answers that have no JSON body (a
    WebSocket's 101).
    """
    app.router.add_route(method, path, handler)
    params = tuple(q if isinstance(q, Query) else Query(q) for q in query)
    app[OPERATIONS].append(Operation(method.lower(), path, summary, body, response, auth, errors, params,
                                     description, body_required, media, status, tuple((responses or {}).items())))


class RouteClash(ValueError):
    """A method and path that a plugin (or the core) adds a second time."""


class Routes:
    """What the `register_routes` hook receives: the one way to add HTTP routes.

    ``route(method, path, handler, summary, **described)`` adds an endpoint and
    describes it in the OpenAPI document (the keywords of `route`: ``body``,
    ``response``, ``auth``, ``errors``, ``query`` …). `page`, `static` and
    `preflight` add what the document leaves out: HTML pages, files, CORS
    preflight answers. A method and path added twice is refused (`RouteClash`).
    """

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._taken: set[tuple[str, str]] = set()

    def _claim(self, method: str, path: str) -> None:
        key = (method.upper(), path)
        if key in self._taken:
            raise RouteClash(f"route {key[0]} {path} is added twice (by two plugins, or one plugin twice)")
        self._taken.add(key)

    def __call__(self, method: str, path: str, handler: Handler, summary: str, **described: Any) -> None:
        self._claim(method, path)
        route(self._app, method, path, handler, summary, **described)

    def page(self, path: str, handler: Handler) -> None:
        """An HTML page (GET), not an API operation."""
        self._claim("GET", path)
        self._app.router.add_get(path, handler)

    def static(self, prefix: str, directory: Any) -> None:
        """The files of `directory` under `prefix` (GET)."""
        self._claim("GET", prefix)
        self._app.router.add_static(prefix, directory, append_version=False)

    def preflight(self, path: str, handler: Handler) -> None:
        """The CORS preflight (OPTIONS) answer of `path`."""
        self._claim("OPTIONS", path)
        self._app.router.add_route("OPTIONS", path, handler)


def _schema(model: type[BaseModel] | dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, dict):
        return model
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _success(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    if op.media != "application/json":
        schema = op.response if isinstance(op.response, dict) else {"type": "string"}
        return {"description": "success", "content": {op.media: {"schema": schema}}}
    return _json(_schema(op.response, components) if op.response else {"type": "object"}, "success")


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in re.findall(r"{(\w+)}", op.path)]
    for q in op.query:
        param = {"name": q.name, "in": "query", "required": q.required, "schema": q.schema}
        if q.description:
            param["description"] = q.description
        params.append(param)
    return params


def _error_codes(op: Operation) -> list[int]:
    codes = set(op.errors)
    if op.body is not None:
        codes |= {400, 413, 422}  # bad JSON or encoding; over the body limit; a field refused
    if op.auth:
        codes.add(401)
    return sorted(codes)


def document(app: web.Application) -> dict[str, Any]:
    """The whole document for the routes added to `app`."""
    components: dict[str, Any] = {"Error": _ERROR}
    paths: dict[str, dict[str, Any]] = {}
    for op in app[OPERATIONS]:
        success = _success(op, components) if op.status >= 200 else {"description": "switching protocols"}
        spec: dict[str, Any] = {"summary": op.summary, "responses": {str(op.status): success}}
        for code, text in op.responses:
            spec["responses"][str(code)] = {"description": text}
        if params := _parameters(op):
            spec["parameters"] = params
        if op.body is not None:
            spec["requestBody"] = {"required": op.body_required,
                                   "content": {"application/json": {"schema": _schema(op.body, components)}}}
        notes = [op.description] if op.description else []
        if op.auth:
            spec["security"] = _SECURITY[op.auth]
            if op.auth in ("admin", "agent"):
                notes.append("Bearer token of the admin" if op.auth == "admin"
                             else "Bearer token of the agent concerned, or the admin token")
        if notes:
            spec["description"] = "\n\n".join(notes)
        for code in _error_codes(op):
            spec["responses"][str(code)] = _json({"$ref": "#/components/schemas/Error"}, "error")
        paths.setdefault(op.path, {})[op.method] = spec
    return {
        "openapi": "3.1.0",
        "info": {"title": "reception", "version": __version__,
                 "description": "Customer reception for online shops: webhook channel, agents, routing."},
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           "signature": {"type": "apiKey", "in": "header",
                                                         "name": "X-Reception-Signature",
                                                         "description": _SIGNATURE_TEXT}}},
        "paths": paths,
    }
