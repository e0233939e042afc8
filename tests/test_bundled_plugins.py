"""The example plugins in plugins/ are loaded here, so they cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import send
from reception import create_app
from reception.config import ConfigError
from reception.testing import make_settings

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"


async def test_vip_buyers_go_straight_to_a_human(start):
    client = await start(plugins_dir=str(PLUGINS), plugin={"vip": {"customers": ["vip-1"], "group": "vip"}},
                         agents=[{"id": "shop:vera", "token": "vera-token", "groups": ["vip"]}])
    online = await client.post("/api/v1/agents/shop:vera/status", json={"status": "online"},
                               headers={"Authorization": "Bearer vera-token"})
    assert online.status == 200
    vip = await send(client, "vip-1", "什么时候发货")
    assert vip["handover"] == {"reason": "vip", "group": "vip"}
    assert vip["status"] == "assigned"
    other = await send(client, "someone", "什么时候发货")
    assert other["handover"] is None and other["replies"][0]["intent"] == "shipping_time"


async def test_a_bad_plugin_table_stops_the_start(aiohttp_client, tmp_path):
    settings = make_settings(tmp_path, plugins_dir=str(PLUGINS), plugin={"vip": {"customer": ["x"]}})
    with pytest.raises(ConfigError, match="plugin.vip: customer"):
        await aiohttp_client(create_app(settings))
