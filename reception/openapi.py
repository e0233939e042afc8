"""The OpenAPI 3.1 document, built from the routes as they are added and the pydantic models they validate.

Every route is added through `route`, which records what the document needs
(summary, body model, response shape, who may call it), so the document can
never miss an endpoint. Plugins use `route` for their endpoints too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Literal

from aiohttp import web
from pydantic import BaseModel

from . import __version__

Auth = Literal["admin", "agent", "signature", None]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | dict[str, Any] | None
    auth: Auth
    errors: tuple[int, ...]
    query: tuple[str, ...]


OPERATIONS = web.AppKey("reception_openapi_operations", list)

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}}}}},
}
_SECURITY = {"admin": [{"bearer": []}], "agent": [{"bearer": []}], "signature": [{"signature": []}, {}]}


def route(app: web.Application, method: str, path: str, handler: Handler, summary: str, *,
          body: type[BaseModel] | None = None, response: type[BaseModel] | dict[str, Any] | None = None,
          auth: Auth = None, errors: tuple[int, ...] = (), query: tuple[str, ...] = ()) -> None:
    """Add a route to `app` and describe it in the OpenAPI document."""
    app.router.add_route(method, path, handler)
    app[OPERATIONS].append(Operation(method.lower(), path, summary, body, response, auth, errors, query))


def _schema(model: type[BaseModel] | dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, dict):
        return model
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document(app: web.Application) -> dict[str, Any]:
    """The whole document for the routes added to `app`."""
    components: dict[str, Any] = {"Error": _ERROR}
    paths: dict[str, dict[str, Any]] = {}
    for op in app[OPERATIONS]:
        spec: dict[str, Any] = {"summary": op.summary, "responses": {
            "200": _json(_schema(op.response, components) if op.response else {"type": "object"}, "success")}}
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"{(\w+)}", op.path)]
        params += [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in op.query]
        if params:
            spec["parameters"] = params
        if op.body is not None:
            spec["requestBody"] = {"required": True,
                                   "content": {"application/json": {"schema": _schema(op.body, components)}}}
        if op.auth:
            spec["security"] = _SECURITY[op.auth]
            if op.auth in ("admin", "agent"):
                spec["description"] = ("Bearer token of the admin" if op.auth == "admin"
                                       else "Bearer token of the agent concerned, or the admin token")
        for code in op.errors:
            spec["responses"][str(code)] = _json({"$ref": "#/components/schemas/Error"}, "error")
        paths.setdefault(op.path, {})[op.method] = spec
    return {
        "openapi": "3.1.0",
        "info": {"title": "reception", "version": __version__,
                 "description": "Customer reception for online shops: webhook channel, agents, routing."},
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           "signature": {"type": "apiKey", "in": "header",
                                                         "name": "X-Reception-Signature"}}},
        "paths": paths,
    }
