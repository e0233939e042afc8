"""Exact bytes over a socket, for requests aiohttp's client will not send (non-ASCII, non-UTF-8 headers),
and a check that the process logged nothing alarming while serving them."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def raw_request(client, method: str, path: str, headers: list[tuple[str, bytes]] = (),
                      body: bytes = b"") -> RawResponse:
    """Send one HTTP/1.1 request with exactly these header bytes to `client`'s test server; read the answer."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        head = [f"{method} {path} HTTP/1.1".encode(), b"Host: test", b"Connection: close",
                f"Content-Length: {len(body)}".encode()]
        head += [name.encode() + b": " + value for name, value in headers]
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    top, _, rest = data.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return RawResponse(status, {k.lower(): v for k, v in fields.items()}, rest)


def assert_quiet(caplog) -> None:
    """At most one warning-or-worse log line, and no traceback anywhere in the log."""
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(loud) <= 1, [r.getMessage() for r in loud]
    assert all(r.exc_info is None for r in caplog.records), [r.getMessage() for r in caplog.records if r.exc_info]
    assert "Traceback" not in caplog.text
