"""The web pages, a default plugin: the demo shop page with the chat widget, the agent workbench, the dashboard.

Plain HTML and ES modules from ``static/``, no build step. Pages get a
Content-Security-Policy that allows only this server's own scripts, so text
typed by buyers or agents can never run as script even if a page forgot to
escape it.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ..core import Reception
from ..hookspecs import hookimpl
from ..openapi import Routes

STATIC = Path(__file__).parent / "static"
PAGES = {"/": "shop.html", "/agent": "agent.html", "/admin": "admin.html"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self' ws: wss:; frame-ancestors 'self'; base-uri 'none'; form-action 'self'")


def _page(name: str):
    async def handler(request: web.Request) -> web.FileResponse:
        response = web.FileResponse(STATIC / name)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        return response

    return handler


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    for path, name in PAGES.items():
        route.page(path, _page(name))
    route.static("/static/", STATIC)
