"""Issue 15 §1–§3, §6 in headless Chromium: the workbench's waiting view and accept, the labels, who the buyer
is, the dashboard's rows and figures, at laptop and phone sizes, in Chinese and English.

One server for the whole scenario (the pool never runs by itself: ``[offline_pool] enabled = false``, so
nothing depends on the wall clock); the browser runs in New York time to show the shop's own (Shanghai).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import expect
from test_browser import _serve, ask, browser, buyer_page, said  # noqa: F401  (browser is a fixture)

CONFIG = """
faq = ["{faq}"]
[hours]
open = ["00:00-24:00"]
timezone = "Asia/Shanghai"
[offline_pool]
enabled = false
[admin]
token = "admin-token-e2e"
[[agents]]
id = "shop:alice"
name = "Alice"
token = "alice-token-e2e"
groups = ["pre_sales"]
max_concurrent = 1
[[agents]]
id = "shop:bob"
name = "Bob"
token = "bob-token-e2e"
groups = ["pre_sales"]
"""
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def night(tmp_path):
    async for url in _serve(tmp_path, Path(__file__).resolve().parent.parent / "faq", CONFIG):
        yield url


async def signed_in(browser,  # noqa: F811
                     url: str, name: str, viewport: dict, lang: str):
    context = await browser.new_context(viewport=viewport, timezone_id="America/New_York")
    page = await context.new_page()
    await page.goto(f"{url}/agent?lang={lang}")
    await page.get_by_test_id("ag-login-id").fill(f"shop:{name}")
    await page.get_by_test_id("ag-login-token").fill(f"{name}-token-e2e")
    await page.get_by_test_id("ag-login-submit").click()
    await expect(page.get_by_test_id("ag-waiting-chip")).to_be_visible()
    return page


async def test_an_agent_sees_waiting_buyers_takes_one_and_the_labels_tell_the_truth(night, browser):  # noqa: F811
    buyer = await buyer_page(browser, night)
    await ask(buyer, "转人工")  # nobody online: the pool keeps the buyer
    await expect(said(buyer, "system").last).to_contain_text("留言已保存")
    await ask(buyer, "转人工")  # asked again: told they are still kept (§6)
    await expect(said(buyer, "system").last).to_contain_text("无需重复发送")

    # the dashboard: the buyer by name, the last message, the pool's time in the shop's timezone (§2, §3)
    admin = await (await browser.new_context(viewport=LAPTOP, timezone_id="America/New_York")).new_page()
    await admin.goto(night + "/admin?lang=zh")
    await admin.get_by_test_id("ad-login-token").fill("admin-token-e2e")
    await admin.get_by_test_id("ad-login-submit").click()
    row = admin.get_by_test_id("ad-pool-item")
    await expect(row.get_by_test_id("ad-buyer-name")).to_have_text(re.compile(r"^买家·[2-9A-Z]{4}$"))
    await expect(row.get_by_test_id("ad-buyer-preview")).to_have_text("转人工")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{night}/api/v1/offline-pool",
                               headers={"Authorization": "Bearer admin-token-e2e"}) as response:
            [kept] = (await response.json())["pool"]
    shanghai = datetime.fromisoformat(kept["pooled_at"]).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    await expect(row.get_by_test_id("ad-pool-time")).to_have_text(shanghai)
    await expect(admin.locator("#pool-next")).to_contain_text("Asia/Shanghai")
    await expect(admin.locator('[data-card="handovers"] .value')).to_have_text("1")  # sessions, not votes

    # alice, laptop, Chinese: the waiting count, the view, accept (§1), who the buyer is (§3), how (§2)
    alice = await signed_in(browser, night, "alice", LAPTOP, "zh")
    await expect(alice.get_by_test_id("ag-waiting-total")).to_have_text("1")
    await alice.get_by_test_id("ag-tab-waiting").click()
    item = alice.get_by_test_id("ag-waiting-item")
    await expect(item.get_by_test_id("ag-waiting-reason")).to_have_text("买家要求转人工")
    await expect(item.get_by_test_id("ag-waiting-preview")).to_have_text("转人工")
    await expect(item).to_contain_text("电脑")
    await alice.get_by_test_id("ag-status-online").click()
    await expect(alice.get_by_test_id("ag-status-online")).to_have_attribute("aria-pressed", "true")
    await item.get_by_test_id("ag-accept").click()
    await expect(alice.get_by_test_id("ag-conv-item")).to_have_count(1)
    await expect(alice.locator("#buyer-info")).to_contain_text("您从离线留言接入")
    await expect(alice.locator("#buyer-info")).to_contain_text("电脑")
    await expect(alice.get_by_test_id("ag-waiting-total")).to_have_text("0")

    # a buyer queues while alice is full: her count follows live, without a reload
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{night}/api/v1/webhook/messages",
                                json={"customer_id": "q1", "text": "I want to talk to a human",
                                      "customer_name": "<img src=x onerror=alert(1)>"}) as response:
            assert (await response.json())["status"] == "queued"
    await expect(alice.get_by_test_id("ag-waiting-total")).to_have_text("1", timeout=10_000)

    # bob, phone, English: the phone's own wording, the queue with the reason in English, the name as text
    bob = await signed_in(browser, night, "bob", PHONE, "en")
    await expect(bob.get_by_test_id("ag-conv-none-phone")).to_have_text("Pick a conversation from the list above")
    await bob.get_by_test_id("ag-waiting-chip").click()
    queued = bob.get_by_test_id("ag-waiting-queue").get_by_test_id("ag-waiting-item")
    await expect(queued.get_by_test_id("ag-waiting-reason")).to_have_text("Asked for a human")
    await expect(queued.get_by_test_id("ag-waiting-name")).to_have_text("<img src=x onerror=alert(1)>")
    assert await bob.locator("#waiting-view img").count() == 0


async def test_the_demo_says_where_its_token_is(tmp_path, browser):  # noqa: F811
    import asyncio
    import os
    import signal
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reception.cli", "serve", "--port", "0", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    token = url = None
    while url is None:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, "the demo did not start"
        if "admin token for this run is" in line:
            token = line.rsplit(" ", 1)[-1].strip()
        if "http://" in line:
            url = line[line.index("http://"):].split()[0]
    try:
        for lang, words in (("zh", "终端"), ("en", "terminal")):
            page = await (await browser.new_context(viewport=PHONE if lang == "en" else LAPTOP)).new_page()
            await page.goto(f"{url}/admin?lang={lang}")
            hint = page.get_by_test_id("ad-login-hint")
            await expect(hint).to_contain_text(words)
            await expect(hint).not_to_contain_text("[admin]")
        await page.get_by_test_id("ad-login-token").fill(token or "")
        await page.get_by_test_id("ad-login-submit").click()
        await expect(page.get_by_test_id("ad-agents-none")).to_contain_text("demo shop has no agents")
        agent = await (await browser.new_context(viewport=LAPTOP)).new_page()
        await agent.goto(f"{url}/agent?lang=zh")
        await expect(agent.get_by_test_id("ag-login-demo")).to_contain_text("演示店铺")
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
