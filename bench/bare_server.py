"""The baseline for bench/webhook_load.py: a bare aiohttp endpoint that parses JSON and answers JSON."""

from __future__ import annotations

import sys

from aiohttp import web


async def handle(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response({"conversation_id": body.get("customer_id"), "status": "bot", "replies": [],
                              "handover": None})


def main() -> None:
    app = web.Application()
    app.router.add_post("/api/v1/webhook/messages", handle)
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    web.run_app(app, host="127.0.0.1", port=port, print=lambda s: print(s.replace("0.0.0.0", "127.0.0.1"), flush=True),
                access_log=None)


if __name__ == "__main__":
    main()
