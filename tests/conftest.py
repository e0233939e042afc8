"""Shared fixtures: a real app from `create_app`, a real SQLite file, real HTTP, the virtual clock."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Callable

import pytest

from reception import create_app
from reception.clock import VirtualClock
from reception.testing import ADMIN_TOKEN, make_settings

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WEBHOOK = "/api/v1/webhook/messages"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def start(aiohttp_client, tmp_path, clock) -> Callable[..., Any]:
    """Start a shop: ``await start(webhook={...}, plugins=[...])`` gives an HTTP client."""

    async def _start(plugins: tuple[Any, ...] = (), **sections: Any):
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
