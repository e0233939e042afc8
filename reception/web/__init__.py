"""The web pages, a default plugin: the demo shop page with the chat widget, the agent workbench, the dashboard.

Plain HTML and ES modules from ``static/``, no build step. Pages get a
Content-Security-Policy that allows only this server's own scripts, so text
typed by buyers or agents can never run as script even if a page forgot to
escape it.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ..core import RECEPTION, Reception
from ..hookspecs import hookimpl
from ..http import json_response
from ..openapi import Routes

STATIC = Path(__file__).parent / "static"
PAGES = {"/": "shop.html", "/agent": "agent.html", "/admin": "admin.html"}
# img-src blob: shows photos, which the pages fetch with their bearer token (never a URL that works alone) and
# show as blob: URLs of their own; a blob: image cannot run script, and script-src still allows only 'self'
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self' ws: wss:; frame-ancestors 'self'; base-uri 'none'; form-action 'self'")


def _page(name: str):
    async def handler(request: web.Request) -> web.FileResponse:
        response = web.FileResponse(STATIC / name)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        return response

    return handler


async def setup(request: web.Request) -> web.Response:
    """What the sign-in pages may say before anyone signs in: whether this is the demo shop (no config file;
    its admin token is printed at start) and the shop's timezone."""
    settings = request.app[RECEPTION].settings
    return json_response({"demo": settings.server.demo, "timezone": settings.hours.timezone,
                          "agents": len(settings.agents)})


@hookimpl(trylast=True)
def register_routes(route: Routes, reception: Reception) -> None:
    route("GET", "/api/v1/web/setup", setup, "For the pages' sign-in: demo shop or not, timezone, number of "
          "agents (no token needed; nothing secret)")
    for path, name in PAGES.items():
        route.page(path, _page(name))
    route.static("/static/", STATIC)
