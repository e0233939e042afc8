"""Schemathesis over the served OpenAPI document: every operation answers as ``/api/openapi.json`` says.

A real app (`create_app`, a real SQLite file, the virtual clock) listens on a
free port of 127.0.0.1 in a thread of its own; schemathesis (its command
line, the interface it keeps stable) loads the document from it and sends
generated requests, valid and invalid, with the admin token, through every
phase (examples, coverage, fuzzing, stateful) and every check: no 5xx, only
documented status codes and content types, bodies that match the response
schemas, invalid data refused and valid data accepted. Generation is
derandomized, so every run sends the same requests.

The few rules JSON Schema cannot state (the ``from``..``to`` order of a range,
a WebSocket handshake) are said in the document's descriptions and listed in
`CONFIG` below, each with the statuses it allows.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from aiohttp import web

from reception import create_app
from reception.clock import VirtualClock
from reception.config import BUNDLED_FAQ
from reception.testing import ADMIN_TOKEN, make_settings

AGENT = {"id": "shop:alice", "token": "alice-token", "groups": ["pre_sales"], "max_concurrent": 3}
EXAMPLES = 20  # per operation and phase: about 2,500 requests in all, 10-20 seconds

CONFIG = f"""
workers = 1
headers = {{ Authorization = "Bearer {ADMIN_TOKEN}" }}

[generation]
max-examples = {EXAMPLES}
deterministic = true
database = "none"

[checks]
enabled = true
# a body over the limit (256 KiB) is refused with 413 before it is read
negative_data_rejection.expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5XX"]

# accept: the admin must name the agent (an agent's own token needs no body); transfer: to a configured group
[[operations]]
include-path-regex = "/(accept|transfer)$"
checks.positive_data_acceptance.expected-statuses = ["2XX", 401, 403, 404, 409, 422]

# A WebSocket route answers a plain HTTP request with 400: schemathesis cannot make the handshake.
[[operations]]
include-path-regex = "/ws$"
checks.positive_data_acceptance.expected-statuses = [400]

# from..to must be in order (and the intent analytics no longer than 31 days): said in the descriptions.
[[operations]]
include-path-regex = "^/api/v1/metrics/"
checks.positive_data_acceptance.expected-statuses = ["2XX", 422]

# Orders are also taken in the CSV importer's lenient forms (numbers for texts, items as "NAME SPEC ×QTY | …",
# events as JSON text, times without an offset), which the description states and JSON Schema cannot: the
# document gives the JSON form, but not everything outside it is refused. And an order_id may appear only
# once in a list (JSON Schema's uniqueItems compares whole orders).
[[operations]]
include-name = "POST /api/v1/orders"
checks.negative_data_rejection.enabled = false
checks.positive_data_acceptance.expected-statuses = ["2XX", 401, 422]

# image_url is fetched by the server: a generated URL names no photo on the public internet (422 image_url_refused
# or image_fetch_failed, 415 for an answer that is not an image, 413 for one too large)
[[operations]]
include-name = "POST /api/v1/webhook/messages"
checks.positive_data_acceptance.expected-statuses = ["2XX", 401, 403, 404, 409, 413, 415, 422]

# the corrected intent must be an FAQ entry or a skill of the shop (422 unknown_intent), and a search's from..to
# must be in order: said in the descriptions
[[operations]]
include-name-regex = "^(PUT /api/v1/conversations/.*/tags|GET /api/v1/search/conversations)$"
checks.positive_data_acceptance.expected-statuses = ["2XX", 401, 403, 404, 422]

# the penalty switch's to must be after its from
[[operations]]
include-name = "POST /api/v1/modes/penalty"
checks.positive_data_acceptance.expected-statuses = ["2XX", 422]
"""


class Server:
    """The app on 127.0.0.1:<free port>, served by an event loop in a thread of its own."""

    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-server", daemon=True)
        self.runner = web.AppRunner(app)
        self.url = ""

    def __enter__(self) -> "Server":
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(60)
        return self

    async def _start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    faq = tmp_path / "faq"
    shutil.copytree(BUNDLED_FAQ, faq)  # the FAQ editing endpoints write to it
    settings = make_settings(tmp_path, faq=[str(faq)], agents=[AGENT], bot={"semantic": "off", "watch_seconds": 0})
    (tmp_path / "schemathesis.toml").write_text(CONFIG, encoding="utf-8")
    # schemathesis is the outside client, not the code under test: it runs on the real clock even when the
    # suite runs under faketime (make test-clock), where its hypothesis engine stalls
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC")}
    with Server(create_app(settings, clock=VirtualClock())) as server:
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "--config-file", "schemathesis.toml", "--no-color", "run",
             f"{server.url}/api/openapi.json"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-30_000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    assert selected and selected.group(1) == selected.group(2) and int(selected.group(1)) >= 30, report[-3_000:]
    assert re.search(r"Tested: (\d+)", report).group(1) == selected.group(1), report[-3_000:]  # type: ignore[union-attr]
