"""Health and the OpenAPI document, a default plugin."""

from __future__ import annotations

from aiohttp import web

from .core import RECEPTION, Reception
from .hookspecs import hookimpl
from .http import json_response
from .openapi import document, route


async def healthz(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    # which instance answered and whether the shop's background work runs on it (several instances)
    return json_response({"status": "ok", "time": reception.clock.now().isoformat(),
                          "instance": reception.cluster.id, "background": reception.cluster.leader})


async def openapi(request: web.Request) -> web.Response:
    return json_response(document(request.app))


@hookimpl(trylast=True)
def register_routes(app: web.Application, reception: Reception) -> None:
    route(app, "GET", "/healthz", healthz, "Liveness")
    route(app, "GET", "/api/openapi.json", openapi, "This document")
