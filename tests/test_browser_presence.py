"""Issue 15 §5 in headless Chromium: the typing indicator both ways, unread counts and read receipts on the
workbench, and a widget panel that leaves the product's price and buttons in view on a laptop (full screen on a
phone), in Chinese and English. One server, several pages; the "typing…" expiry runs on the page's own clock
(Playwright's clock), never the wall clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect
from test_browser import _serve, agent_page, ask, browser, said  # noqa: F401  (browser is a fixture)

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def server(tmp_path):
    async for url in _serve(tmp_path, Path(__file__).resolve().parent.parent / "faq"):
        yield url


def _overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


async def widget(browser, url: str, viewport: dict, lang: str = "zh"):  # noqa: F811
    context = await browser.new_context(viewport=viewport, is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    page = await context.new_page()
    if lang == "zh":
        await page.clock.install()  # time runs as usual until the test moves it (the "typing…" expiry)
    if lang == "en":  # the shop's page in English: the widget follows its <html lang>, set before it loads
        await page.add_init_script("new MutationObserver((_, seen) => { if (document.documentElement) {"
                                   " document.documentElement.lang = 'en'; seen.disconnect(); } })"
                                   ".observe(document, { childList: true })")
    await page.goto(url + "/")
    await page.get_by_test_id("rw-button").click()
    await expect(page.get_by_test_id("rw-panel")).to_be_visible()
    return page


async def test_typing_both_ways_unread_counts_read_receipts_and_a_panel_that_leaves_the_product_visible(
        server, browser):  # noqa: F811
    # laptop, Chinese: the open panel covers neither the price nor the buy buttons; the buyer can make it smaller
    buyer = await widget(browser, server, LAPTOP)
    panel = buyer.get_by_test_id("rw-panel")
    await buyer.wait_for_function("() => !document.querySelector('reception-widget').shadowRoot"
                                  ".querySelector('.rw-panel').getAnimations().length")
    box = await panel.bounding_box()
    for selector in (".price", ".btn-buy", ".btn-cart"):
        assert not _overlap(box, await buyer.locator(selector).bounding_box()), selector
    await buyer.get_by_test_id("rw-size").click()
    await expect(panel).to_have_attribute("data-size", "compact")
    assert (await panel.bounding_box())["height"] < box["height"]
    await buyer.get_by_test_id("rw-size").click()
    await expect(panel).not_to_have_attribute("data-size", "compact")

    # the buyer asks for a person: alice's list shows one unread message, cleared when she opens the buyer
    alice = await agent_page(browser, server, "alice")
    await ask(buyer, "转人工")
    item = alice.get_by_test_id("ag-conv-item")
    await expect(item.get_by_test_id("ag-unread")).to_have_text("1", timeout=10_000)
    await item.click()
    await expect(item.get_by_test_id("ag-unread")).to_have_count(0)
    await alice.goto(server + "/agent?lang=zh")  # a reload (in Chinese): read is kept on the server
    await expect(alice.get_by_test_id("ag-messages")).to_contain_text("转人工")
    await expect(item.get_by_test_id("ag-unread")).to_have_count(0)

    # the buyer types: alice sees it; alice types: the buyer sees it, and it goes away by itself
    await buyer.get_by_test_id("rw-input").fill("请问")
    await expect(alice.get_by_test_id("ag-buyer-typing")).to_have_text("买家正在输入…", timeout=10_000)
    await alice.get_by_test_id("ag-reply-input").fill("亲，")
    typing = buyer.get_by_test_id("rw-typing")
    await expect(typing).to_be_visible(timeout=10_000)
    await expect(typing).to_have_text("客服正在输入…")
    await buyer.clock.fast_forward(7_000)
    await expect(typing).to_be_hidden()

    # alice replies: the buyer's widget is open, so it is read, and alice sees 已读 under her message
    await alice.get_by_test_id("ag-reply-input").fill("亲，在的，有什么可以帮您")
    await alice.get_by_test_id("ag-reply-send").click()
    await expect(said(buyer, "agent").last).to_contain_text("有什么可以帮您", timeout=10_000)
    mine = alice.locator('[data-testid="ag-message"][data-sender="agent"]').last
    await expect(mine.get_by_test_id("ag-receipt")).to_have_text("已读", timeout=10_000)

    # phone, English: the panel is the whole screen, without the size button; bob (alice has gone offline)
    # sees the English words
    await alice.get_by_test_id("ag-status-offline").click()
    await expect(alice.get_by_test_id("ag-status-offline")).to_have_attribute("aria-pressed", "true")
    bob = await agent_page(browser, server, "bob")
    await bob.set_viewport_size(PHONE)
    await bob.goto(server + "/agent?lang=en")
    phone = await widget(browser, server, PHONE, "en")
    box = await phone.get_by_test_id("rw-panel").bounding_box()
    assert box["width"] == PHONE["width"] and box["height"] == PHONE["height"]
    await expect(phone.get_by_test_id("rw-size")).to_be_hidden()
    await ask(phone, "I want to talk to a human")
    item = bob.get_by_test_id("ag-conv-item")
    await expect(item.get_by_test_id("ag-unread")).to_have_text("1", timeout=10_000)
    await item.click()
    await expect(item.get_by_test_id("ag-unread")).to_have_count(0)
    await phone.get_by_test_id("rw-input").fill("size")
    await expect(bob.get_by_test_id("ag-buyer-typing")).to_have_text("The buyer is typing…", timeout=10_000)
    await bob.get_by_test_id("ag-reply-input").fill("Hi")
    await expect(phone.get_by_test_id("rw-typing")).to_have_text("The agent is typing…", timeout=10_000)
    await bob.get_by_test_id("ag-reply-send").click()
    await expect(said(phone, "agent").last).to_contain_text("Hi", timeout=10_000)
    await expect(bob.locator('[data-testid="ag-message"][data-sender="agent"]').last
                 .get_by_test_id("ag-receipt")).to_have_text("Read", timeout=10_000)
