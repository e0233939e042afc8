"""Health and the OpenAPI document, a default plugin."""

from __future__ import annotations

from aiohttp import web

from .core import RECEPTION, Reception
from .hookspecs import hookimpl
from .http import json_response
from .openapi import Routes, document


async def healthz(request: web.Request) -> web.Response:
    reception = request.app[RECEPTION]
    # which instance answered and whether the shop's background work runs on it (several instances)
    return json_response({"status": "ok", "time": reception.clock.now().isoformat(),
                          "instance": reception.cluster.id, "background": reception.cluster.leader})


async def openapi(request: web.Request) -> web.Response:
    return json_response(document(request.app))


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("GET", "/healthz", healthz, "Liveness")
    route("GET", "/api/openapi.json", openapi, "This document")
