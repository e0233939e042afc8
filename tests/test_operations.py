"""Running a shop: a taken port, start-up warnings, the metrics token, environment errors, JSON logs, request ids."""

from __future__ import annotations

import asyncio
import json
import signal
import socket

import aiohttp
import pytest
from conftest import ADMIN, CLI, bearer, serve, server_env

from reception.cli import main
from reception.config import ConfigError, load_settings
from reception.config.risks import risks
from reception.testing import make_settings


async def test_a_taken_port_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            *CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", "shop.db", cwd=tmp_path,
            env=server_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert lines == [f"reception: error: cannot listen on 127.0.0.1:{port}: the address is already in use "
                     "(is another server running there?)"], err.decode()
    assert "http://" not in out.decode()


def test_risky_settings_get_one_warning_each():
    settings = load_settings(None, env={}, overrides={
        "admin": {"token": "change-me-admin-token"},
        "agents": [{"id": "shop:alice", "token": "alice-token-change-me"},
                   {"id": "shop:carol", "token": "carol-c4r0l-9"}],
    })
    found = risks(settings)
    assert len(found) == 3, found
    assert "[admin] token" in found[0] and "shop:alice" in found[0] and "carol" not in found[0]
    assert "no [webhook] secret" in found[1] and "/api/v1/webhook/messages" in found[1]
    assert "/metrics is open" in found[2] and "[metrics] token" in found[2]
    safe = load_settings(None, env={}, overrides={"admin": {"token": "s3cret-admin-t0ken"},
                                                  "webhook": {"secret": "another-s3cret-value"},
                                                  "metrics": {"token": "scraper-t0ken-1"}})
    assert risks(safe) == []
    example = load_settings(None, env={}, overrides={"webhook": {"secret": "a-long-random-secret"},
                                                     "metrics": {"token": "sha256:" + "0" * 64}})
    assert ["example's" in line for line in risks(example)] == [True]
    shared = {"admin": {"token": "s3cret-admin-t0ken"}, "webhook": {"secret": "another-s3cret-value"},
              "metrics": {"token": "scraper-t0ken-1"}, "store": {"url": "postgresql://shop@db/shop"}}
    [widget] = risks(load_settings(None, env={}, overrides=shared))
    assert "[webchat] secret" in widget and "every instance" in widget
    shared["webchat"] = {"secret": "the-same-widget-secret-everywhere"}
    assert risks(load_settings(None, env={}, overrides=shared)) == []


async def test_a_metrics_token_protects_metrics(start, tmp_path):
    client = await start(metrics={"token": "scraper-t0ken-1"})
    refused = await client.get("/metrics")
    assert refused.status == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await refused.json())["error"]["code"] == "unauthorized"
    assert (await client.get("/metrics", headers=bearer("wrong-t0ken-2"))).status == 401
    assert (await client.get("/metrics", headers=ADMIN)).status == 401  # the scraper's token, not the admin's
    allowed = await client.get("/metrics", headers=bearer("scraper-t0ken-1"))
    assert allowed.status == 200 and "reception_sessions_total" in await allowed.text()
    settings = make_settings(tmp_path, metrics={"token": "sha256:" + "ab" * 32})
    assert settings.metrics.token == "ab" * 32  # hashed like every other token
    assert "scraper" not in settings.model_dump_json()


async def test_metrics_stay_open_without_a_token(client):
    assert (await client.get("/metrics")).status == 200


def test_an_environment_override_error_names_the_variable(tmp_path, capsys, monkeypatch):
    config = tmp_path / "reception.toml"
    config.write_text('[bot]\nmax_wrong_share = 0.05\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={"RECEPTION_BOT__ANSWER_THRESHOLD": "abc"})
    message = str(error.value)
    assert message.startswith("RECEPTION_BOT__ANSWER_THRESHOLD: ") and "valid number" in message
    assert str(config) not in message  # the file is fine; the variable is not
    with pytest.raises(ConfigError) as error:  # inside a JSON value: the variable and the path in it
        load_settings(config, env={"RECEPTION_AGENTS": '[{"id": "shop:a", "token": "short"}]'})
    assert str(error.value).startswith("RECEPTION_AGENTS: agents.0.token: ")
    config.write_text('[bot]\nmax_wrong_share = 7\n', encoding="utf-8")  # the file's own errors still name it
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={"RECEPTION_BOT__ANSWER_THRESHOLD": "abc"})
    assert f"{config}: bot.max_wrong_share: " in str(error.value)
    assert "RECEPTION_BOT__ANSWER_THRESHOLD: " in str(error.value)
    monkeypatch.setenv("RECEPTION_BOT__ANSWER_THRESHOLD", "abc")
    config.write_text('[bot]\nmax_wrong_share = 0.05\n', encoding="utf-8")
    assert main(["faq", "check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reception: error: RECEPTION_BOT__ANSWER_THRESHOLD: ") and len(err.splitlines()) == 1


async def test_request_ids_come_back_in_the_header_and_in_errors(client):
    given = await client.get("/api/v1/conversations/nope/messages", headers={"X-Request-Id": "shop-req-42"})
    assert given.status == 401 and given.headers["X-Request-Id"] == "shop-req-42"
    assert (await given.json())["error"]["request_id"] == "shop-req-42"
    made = await client.get("/api/v1/conversations/nope/messages", headers={"X-Request-Id": "no spaces <here>"})
    made_id = made.headers["X-Request-Id"]
    assert made_id != "no spaces <here>" and len(made_id) == 32
    assert (await made.json())["error"]["request_id"] == made_id
    ok = await client.get("/api/openapi.json")
    assert ok.status == 200 and len(ok.headers["X-Request-Id"]) == 32
    assert ok.headers["X-Request-Id"] not in (made_id, "shop-req-42")


async def test_serve_warns_at_start_and_logs_json_lines_with_request_ids(tmp_path):
    assert main(["init", str(tmp_path / "shop")]) == 0  # the example config: its default tokens, no secrets
    proc, url = await serve("--config", "shop/reception.toml", "--db", "shop.db", "--log-format", "json",
                            cwd=tmp_path, timeout=60)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/api/v1/orders/x", headers={"X-Request-Id": "trace-me-7"}) as response:
                assert response.status == 401 and response.headers["X-Request-Id"] == "trace-me-7"
            async with session.get(f"{url}/metrics") as response:
                assert response.status == 200
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    lines = [json.loads(text) for text in (await proc.stderr.read()).decode().splitlines()]  # every line is JSON
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    warnings = [line["message"] for line in lines
                if line["level"] == "WARNING" and line["logger"] == "reception.config"]
    assert len(warnings) == 3, warnings
    assert "default tokens" in warnings[0] and "shop:alice" in warnings[0] and "shop:bob" in warnings[0]
    assert "[webhook] secret" in warnings[1] and "/metrics" in warnings[2]
    [access] = [line for line in lines if line["request_id"] == "trace-me-7"]
    assert access["status"] == 401 and access["path"] == "/api/v1/orders/x" and access["logger"] == "aiohttp.access"
