"""Logs for operators: plain text or one JSON object per line, each carrying the id of the HTTP request served.

Every HTTP request gets an id: the caller's ``X-Request-Id`` when it is a
sensible one (1–128 characters of ``A-Z a-z 0-9 . _ : -``), else a fresh one.
It is sent back in the ``X-Request-Id`` header, put in error answers
(``{"error": {…, "request_id": …}}``, see `reception.http`) and in every log
line written while the request is served, so an answer a shop reports can be
found in the logs. `configure` sets up the root logger for `reception serve`
(``--log-format text|json``); JSON lines hold ``time``, ``level``,
``logger``, ``message``, ``request_id`` and, on failures, ``exception``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

HEADER = "X-Request-Id"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# the id of the request being served in this task (None outside a request)
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("reception_request_id", default=None)
_KEY: Any = web.RequestKey("reception_request_id", str) if hasattr(web, "RequestKey") else "reception_request_id"

# fields an access line adds to its JSON object
_ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "remote")


def request_id(request: web.Request) -> str | None:
    """The id given to `request` (None before the middleware has seen it)."""
    return request.get(_KEY)


@web.middleware
async def request_ids(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Give the request its id (the caller's ``X-Request-Id`` if sensible) for the logs and the answer."""
    offered = request.headers.get(HEADER, "")
    rid = offered if _VALID.match(offered) else uuid.uuid4().hex
    request[_KEY] = rid
    REQUEST_ID.set(rid)  # not reset: the access line, written after the handler returns, carries it too
    return await handler(request)


async def send_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer, errors and WebSocket upgrades included, says its request id."""
    rid = request.get(_KEY)
    if rid is not None:
        response.headers[HEADER] = rid


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for name in _ACCESS_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class AccessLog(AbstractAccessLogger):
    """One line per answered request: method, path, status, duration and the request id."""

    def log(self, request: Any, response: web.StreamResponse, time: float) -> None:
        rid = response.headers.get(HEADER)
        self.logger.info("%s %s %s", request.method, request.path, response.status,
                         extra={"request_id": rid, "method": request.method, "path": request.path,
                                "status": response.status, "duration_ms": round(time * 1000, 1),
                                "remote": request.remote})

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def configure(fmt: str) -> None:
    """Log INFO and above to stderr, as text or JSON lines; JSON also logs every request (`AccessLog`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("reception")
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "reception"]:  # configured before: replaced
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # a library's warning is a log line too (JSON when the lines are JSON)
    # text logs stay quiet per request, as they always were; JSON logs are read by machines, which want each one
    logging.getLogger("aiohttp.access").setLevel(logging.INFO if fmt == "json" else logging.WARNING)
