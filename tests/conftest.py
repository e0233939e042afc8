"""Shared fixtures: a real app from `create_app`, a real SQLite file, real HTTP, the virtual clock."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from reception import create_app
from reception.clock import VirtualClock
from reception.testing import ADMIN_TOKEN, make_settings

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WEBHOOK = "/api/v1/webhook/messages"
CLI = [sys.executable, "-m", "reception.cli"]


def server_env() -> dict[str, str]:
    """This process's environment without RECEPTION_* overrides, for a `reception` subprocess."""
    return {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}


async def serve(*args: str, cwd: Path, timeout: float = 30) -> tuple[asyncio.subprocess.Process, str]:
    """A real `reception serve --port 0 ARGS` in `cwd`, and its URL once it says it is listening."""
    proc = await asyncio.create_subprocess_exec(*CLI, "serve", "--port", "0", *args, cwd=cwd, env=server_env(),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout)).decode()
        assert line, (await proc.stderr.read()).decode()
        if "http://" in line:
            return proc, line[line.index("http://"):].split()[0]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def start(aiohttp_client, tmp_path, clock) -> Callable[..., Any]:
    """Start a shop: ``await start(webhook={...}, plugins=[...])`` gives an HTTP client."""

    async def _start(plugins: tuple[Any, ...] = (), **sections: Any):
        # the lexical bot unless a test asks for sentence vectors (tests/test_semantic.py): its answers
        # are what these scenarios are written against, and it needs no model loaded
        sections["bot"] = {"semantic": "off", **sections.get("bot", {})}
        settings = make_settings(tmp_path, **sections)
        return await aiohttp_client(create_app(settings, plugins=plugins, clock=clock))

    return _start


@pytest.fixture
async def client(start):
    return await start()


def signed(secret: str, body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    sig = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Reception-Signature": sig, "Content-Type": "application/json"}


async def send(client, customer_id: str, text: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, **fields}
    if text is not None:
        body["text"] = text
    response = await client.post(WEBHOOK, json=body)
    assert response.status == 200, await response.text()
    return await response.json()


async def history(client, conversation_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=ADMIN)
    assert response.status == 200
    return (await response.json())["messages"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def set_status(client, agent: str, status: str, token: str | None = None) -> None:
    """`agent` is the part after "shop:"; its token is "<agent>-token" unless given."""
    response = await client.post(f"/api/v1/agents/shop:{agent}/status", json={"status": status},
                                 headers=bearer(token or f"{agent}-token"))
    assert response.status == 200, await response.text()


async def eventually(check, timeout: float = 5.0):
    """Poll `check` (sync or async) until it returns something truthy; background tasks run meanwhile."""
    import asyncio
    import inspect

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def agent(name: str, groups: list[str], max_concurrent: int = 2, **extra):
    return {"id": f"shop:{name}", "token": f"{name}-token", "groups": groups, "max_concurrent": max_concurrent,
            **extra}


async def reply(client, conversation_id: str, name: str, text: str = "您好"):
    """Agent `name` (token "<name>-token") replies in the conversation."""
    response = await client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": text},
                                 headers=bearer(f"{name}-token"))
    assert response.status == 200, await response.text()


async def close(client, conversation_id: str, name: str):
    """Agent `name` closes the conversation."""
    response = await client.post(f"/api/v1/conversations/{conversation_id}/close", headers=bearer(f"{name}-token"))
    assert response.status == 200, await response.text()
    return await response.json()
