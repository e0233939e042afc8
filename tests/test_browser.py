"""End to end in headless Chromium: a buyer in the widget, an agent in the workbench, the shop's dashboard.

The server is the real `reception serve` in its own process; Chromium is
Debian's (``E2E_CHROMIUM``, installed by ``make test``). A missing
browser fails the suite: it is never skipped.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Page, async_playwright, expect

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# An FAQ edit from the dashboard answers once the FAQ is indexed and calibrated again (with sentence vectors,
# about 2 s alone and several times that on a loaded machine): the toast and the list wait this long for it.
RELOAD_MS = 30_000
# Every other wait: a condition that holds ends it at once, so a machine loaded by the rest of the suite gets
# 15 s rather than Playwright's 5 s before a page that is merely slow counts as wrong.
expect.set_options(timeout=15_000)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
# Humans serve all day, so the scenario reads the same whatever the wall clock says.
CONFIG = """
faq = ["{faq}"]
[hours]
open = ["00:00-24:00"]
[admin]
token = "admin-token-e2e"
[[agents]]
id = "shop:alice"
name = "Alice"
token = "alice-token-e2e"
groups = ["pre_sales"]
[[agents]]
id = "shop:bob"
name = "Bob"
token = "bob-token-e2e"
groups = ["pre_sales"]
"""


async def _serve(tmp_path: Path, faq: Path, config: str = CONFIG):
    """`reception serve` on `config` with this FAQ folder: yields its URL, stops it with SIGTERM."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run the tests with `make test`, which installs it")
    (tmp_path / "reception.toml").write_text(config.format(faq=faq), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reception.cli", "serve", "--config", "reception.toml", "--port", "0",
        "--db", str(tmp_path / "e2e.db"), cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, "the server did not start"
        if "http://" in line:
            url = line[line.index("http://"):].split()[0]
            break
    yield url
    proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.wait(), 30)


@pytest.fixture
async def server(tmp_path):
    async for url in _serve(tmp_path, Path(__file__).resolve().parent.parent / "faq"):
        yield url


@pytest.fixture
async def faq_copy(tmp_path) -> Path:
    """A copy of the bundled FAQ for a test whose server writes to its FAQ files."""
    folder = tmp_path / "faq"
    shutil.copytree(Path(__file__).resolve().parent.parent / "faq", folder)
    return folder


@pytest.fixture
async def server_with_faq_copy(tmp_path, faq_copy):
    async for url in _serve(tmp_path, faq_copy):
        yield url


@pytest.fixture
async def browser():
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()


async def buyer_page(browser, url: str) -> Page:
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(url + "/")
    await page.get_by_test_id("rw-button").click()
    await expect(page.get_by_test_id("rw-panel")).to_be_visible()
    return page


async def ask(page: Page, text: str) -> None:
    await page.get_by_test_id("rw-input").fill(text)
    await page.get_by_test_id("rw-send").click()


def said(page: Page, sender: str):
    return page.locator(f'[data-testid="rw-message"][data-sender="{sender}"]')


def answers(page: Page):
    """Whatever the shop said back: the bot's answer or a system notice."""
    return page.locator('[data-testid="rw-message"]:not([data-sender="buyer"])')


async def agent_page(browser, url: str, name: str) -> Page:
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(url + "/agent")
    await page.get_by_test_id("ag-login-id").fill(f"shop:{name}")
    await page.get_by_test_id("ag-login-token").fill(f"{name}-token-e2e")
    await page.get_by_test_id("ag-login-submit").click()
    await page.get_by_test_id("ag-status-online").click()
    # the server has the agent online before the test goes on (a buyer's handover must find them)
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            async with session.get(f"{url}/api/v1/agents/shop:{name}",
                                   headers={"Authorization": f"Bearer {name}-token-e2e"}) as response:
                if response.status == 200 and (await response.json())["agent"]["status"] == "online":
                    return page
            await asyncio.sleep(0.05)
    raise AssertionError(f"{name} did not come online")


async def test_buyer_bot_agent_reply_close_and_rating(server, browser):
    buyer = await buyer_page(browser, server)
    await ask(buyer, "我的快递到哪了")
    await expect(said(buyer, "bot").last).to_contain_text("物流")
    alice = await agent_page(browser, server, "alice")
    await ask(buyer, "转人工")
    item = alice.get_by_test_id("ag-conv-item").first
    await expect(item).to_be_visible(timeout=10_000)
    await item.click()
    await expect(alice.get_by_test_id("ag-messages")).to_contain_text("转人工")
    await alice.get_by_test_id("ag-reply-input").fill("亲，您好，我是Alice，马上帮您查")
    await alice.get_by_test_id("ag-reply-send").click()
    await expect(said(buyer, "agent").last).to_contain_text("马上帮您查", timeout=10_000)
    await alice.get_by_test_id("ag-close").click()
    rating = buyer.get_by_test_id("rw-rating-满意")
    await expect(rating).to_be_visible(timeout=10_000)
    await rating.click()
    await expect(said(buyer, "system").last).to_contain_text("感谢", timeout=10_000)


async def test_two_buyers_never_see_each_other_and_a_reload_keeps_the_conversation(server, browser):
    first = await buyer_page(browser, server)
    second = await buyer_page(browser, server)
    await ask(first, "我的订单号是 FIRST-SECRET，怎么退货")
    await expect(answers(first).last).to_be_visible()
    await ask(second, "什么时候发货")
    await expect(answers(second).last).to_be_visible()
    await expect(second.get_by_test_id("rw-messages")).not_to_contain_text("FIRST-SECRET")
    await first.reload()
    await first.evaluate("window.receptionWidget.open()")
    await expect(first.get_by_test_id("rw-messages")).to_contain_text("FIRST-SECRET")
    await expect(said(first, "buyer")).to_have_count(1)


async def test_an_agent_sees_only_their_own_buyers(server, browser):
    alice = await agent_page(browser, server, "alice")
    buyer = await buyer_page(browser, server)
    await ask(buyer, "转人工")
    await expect(alice.get_by_test_id("ag-conv-item")).to_have_count(1, timeout=10_000)
    bob = await agent_page(browser, server, "bob")
    await expect(bob.get_by_test_id("ag-conv-list")).to_be_visible()
    await asyncio.sleep(1)
    await expect(bob.get_by_test_id("ag-conv-item")).to_have_count(0)


async def test_the_dashboard_shows_the_day_and_tries_the_faq(server, browser):
    buyer = await buyer_page(browser, server)
    await ask(buyer, "什么时候发货")
    await expect(said(buyer, "bot").last).to_be_visible()
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(server + "/admin")
    await page.get_by_test_id("ad-login-token").fill("admin-token-e2e")
    await page.get_by_test_id("ad-login-submit").click()
    await expect(page.get_by_test_id("ad-cards")).to_be_visible()
    await expect(page.get_by_test_id("ad-agents")).to_contain_text("alice")
    await page.get_by_test_id("ad-try-input").fill("可以开发票吗")
    await page.get_by_test_id("ad-try-submit").click()
    await expect(page.get_by_test_id("ad-try-result")).to_contain_text("invoice")
    # the FAQ doctor's word on that entry: the calibrated threshold for Chinese, then its advice
    await expect(page.get_by_test_id("ad-try-calibration")).to_contain_text(re.compile(r"(Chinese|中文).*0\.\d\d"))
    await expect(page.get_by_test_id("ad-try-advice")).to_be_visible()
    await page.get_by_test_id("ad-mode-penalty").check(force=True)  # robot reception, switched by the shop
    await expect(page.locator('[data-mode="penalty"]')).to_have_attribute("data-on", "true")


async def admin_page(browser, url: str) -> Page:
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(url + "/admin")
    await page.get_by_test_id("ad-login-token").fill("admin-token-e2e")
    await page.get_by_test_id("ad-login-submit").click()
    await expect(page.get_by_test_id("ad-cards")).to_be_visible()
    return page


async def test_the_shop_owner_teaches_the_bot_an_unanswered_question_in_two_clicks(server_with_faq_copy, browser,
                                                                                     faq_copy):
    url, question = server_with_faq_copy, "这个杯子能放微波炉吗"
    buyer = await buyer_page(browser, url)
    await ask(buyer, question)
    await expect(answers(buyer).last).to_be_visible()
    await expect(said(buyer, "bot")).to_have_count(0)  # not answered: handed over
    page = await admin_page(browser, url)
    item = page.get_by_test_id("ad-unanswered-item").filter(has_text=question)
    await expect(item).to_be_visible(timeout=10_000)
    await expect(item.get_by_test_id("ad-unanswered-count")).to_contain_text("1")
    await expect(item.get_by_test_id("ad-unanswered-closest")).to_be_visible()
    await expect(page.get_by_test_id("ad-faq-error")).to_be_hidden()
    await item.get_by_test_id("ad-unanswered-entry").select_option("fabric_care")  # click one: the entry
    await item.get_by_test_id("ad-unanswered-add").click()                        # click two: add
    await expect(page.locator("#toast")).to_contain_text("fabric_care", timeout=RELOAD_MS)
    await expect(page.get_by_test_id("ad-unanswered-item").filter(has_text=question)).to_have_count(
        0, timeout=RELOAD_MS)
    assert f"    - {question}\n" in (faq_copy / "products.yaml").read_text(encoding="utf-8")
    fresh = await buyer_page(browser, url)
    await ask(fresh, question)
    await expect(said(fresh, "bot").last).to_contain_text("面料", timeout=10_000)


async def test_a_new_entry_from_the_dashboard_and_the_banner_for_a_bad_hand_edit(server_with_faq_copy, browser,
                                                                                 faq_copy):
    url, question = server_with_faq_copy, "宠物能用吗"
    buyer = await buyer_page(browser, url)
    await ask(buyer, question)
    await expect(answers(buyer).last).to_be_visible()
    page = await admin_page(browser, url)
    item = page.get_by_test_id("ad-unanswered-item").filter(has_text=question)
    await item.get_by_test_id("ad-unanswered-new").click()
    await expect(item.get_by_test_id("ad-new-question")).to_have_value(question)
    await item.get_by_test_id("ad-new-id").fill("pets")
    await item.get_by_test_id("ad-new-zh").fill("亲，可以给宠物用，材质安全无毒。")
    await item.get_by_test_id("ad-new-en").fill("Yes, it is safe for pets.")
    await item.get_by_test_id("ad-new-save").click()
    await expect(page.locator("#toast")).to_contain_text("pets", timeout=RELOAD_MS)
    await expect(page.get_by_test_id("ad-unanswered-item").filter(has_text=question)).to_have_count(
        0, timeout=RELOAD_MS)
    fresh = await buyer_page(browser, url)
    await ask(fresh, question)
    await expect(said(fresh, "bot").last).to_contain_text("材质安全无毒", timeout=10_000)
    banner = page.get_by_test_id("ad-faq-error")
    (faq_copy / "broken.yaml").write_text("- id: broken\n  questions: [坏了]\n", encoding="utf-8")
    await refreshed_until(page, lambda: banner.is_visible())  # the server reads the folder every 2 s
    await expect(banner).to_contain_text("broken.yaml")
    (faq_copy / "broken.yaml").unlink()
    await refreshed_until(page, lambda: banner.is_hidden())


async def refreshed_until(page: Page, check, timeout: float = 15.0) -> None:
    """Click the dashboard's refresh until `check()` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the dashboard never showed it"
        await page.get_by_test_id("ad-refresh").click()
        await asyncio.sleep(0.5)


async def test_the_widget_stores_a_renewed_token_and_keeps_the_conversation(server, browser, tmp_path):
    import hashlib
    import hmac

    page = await buyer_page(browser, server)
    await ask(page, "我的订单号是 KEPT-ACROSS-RENEWAL，怎么退货")
    await expect(answers(page).last).to_be_visible()
    # Turn the stored token into one an earlier release issued (no expiry, signed with the key file's secret):
    # the session renews such a token at once, as it renews one past half its life.
    secret = [line for line in (tmp_path / "e2e.db.webchat-key").read_text().splitlines()
              if line and not line.startswith("#")][0]
    old = await page.evaluate("localStorage.getItem('reception.webchat.token')")
    await page.wait_for_function("(old) => (localStorage.getItem(`reception.webchat.history.${old}`) || '')"
                                 ".includes('KEPT-ACROSS-RENEWAL')", arg=old)
    customer = old.split(".")[0]
    legacy = customer + "." + hmac.new(secret.encode(), customer.encode(), hashlib.sha256).hexdigest()[:40]
    await page.evaluate("""([old, legacy]) => {
        for (const k of ['seq', 'history']) {
            const v = localStorage.getItem(`reception.webchat.${k}.${old}`);
            if (v != null) localStorage.setItem(`reception.webchat.${k}.${legacy}`, v);
            localStorage.removeItem(`reception.webchat.${k}.${old}`);
        }
        localStorage.setItem('reception.webchat.token', legacy);
    }""", [old, legacy])
    # the socket never reaches the server: what shows after the reload is what the widget kept, not a new sync
    await page.route_web_socket(re.compile(r"/api/v1/webchat/ws"), lambda ws: None)
    await page.reload()
    await page.evaluate("window.receptionWidget.open()")
    await page.wait_for_function("(legacy) => localStorage.getItem('reception.webchat.token') !== legacy", arg=legacy)
    renewed = await page.evaluate("localStorage.getItem('reception.webchat.token')")
    assert renewed.startswith(customer + ".") and renewed.count(".") == 2
    await expect(page.get_by_test_id("rw-messages")).to_contain_text("KEPT-ACROSS-RENEWAL")
    keys = await page.evaluate("Object.keys(localStorage)")
    assert f"reception.webchat.history.{renewed}" in keys
    assert not [k for k in keys if k.endswith(legacy)]
