"""Issue 15 §5 in headless Chromium: quick replies as answers (searched, inserted, edited before sending), internal
notes and tags (the corrected intent), conversation search on the workbench and the dashboard; laptop and phone,
Chinese and English. One server and one test function (several pages); the API side is tests/test_notes_search.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Page, expect
from test_browser import _serve, agent_page, ask, browser, buyer_page, said  # noqa: F401  (browser is a fixture)

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
[[agents]]
id = "shop:bob"
name = "Bob"
token = "bob-token-e2e"
groups = ["after_sales"]
"""
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
NOTE = '<img src=x onerror="window.pwned=1">老客户，上次退过货'


@pytest.fixture
async def shop(tmp_path):
    async for url in _serve(tmp_path, Path(__file__).resolve().parent.parent / "faq", CONFIG):
        yield url


async def signed_in(browser, url: str, page_path: str, viewport: dict, lang: str, token: str,  # noqa: F811
                    name: str | None = None) -> Page:
    page = await (await browser.new_context(viewport=viewport)).new_page()
    await page.goto(f"{url}{page_path}?lang={lang}")
    if name:
        await page.get_by_test_id("ag-login-id").fill(f"shop:{name}")
        await page.get_by_test_id("ag-login-token").fill(token)
        await page.get_by_test_id("ag-login-submit").click()
        await expect(page.get_by_test_id("ag-search")).to_be_visible()
    else:
        await page.get_by_test_id("ad-login-token").fill(token)
        await page.get_by_test_id("ad-login-submit").click()
        await expect(page.get_by_test_id("ad-cards")).to_be_visible()
    return page


async def fits(page: Page) -> None:
    """Nothing wider than the screen (phone)."""
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


async def test_quick_replies_notes_tags_and_search_in_the_pages(shop, browser):  # noqa: F811
    url = shop
    alice = await agent_page(browser, url, "alice")  # laptop, Chinese
    await alice.goto(f"{url}/agent?lang=zh")  # still signed in (this tab's session)
    await expect(alice.get_by_test_id("ag-search-submit")).to_have_text("搜索")
    buyer = await buyer_page(browser, url)
    await ask(buyer, "转人工")
    await ask(buyer, "发票开错了怎么办")
    await alice.get_by_test_id("ag-conv-item").first.click()
    await expect(alice.get_by_test_id("ag-notes-section")).to_be_visible()

    # quick replies: the answers (not buyer phrasings), found by keyword, put into the box to be edited
    chips = alice.get_by_test_id("ag-quick-reply")
    await expect(chips.first).to_be_visible()
    assert "质量太差了" not in await chips.all_text_contents()
    await alice.get_by_test_id("ag-quick-search").fill("发票")
    await expect(chips.first).to_contain_text("发票")
    answer = (await chips.first.text_content()) or ""
    assert len(answer) > 15 and "?" not in answer[-2:] and "吗" != answer[-1]
    await chips.first.click()
    box = alice.get_by_test_id("ag-reply-input")
    await expect(box).to_have_value(answer)
    assert await said(buyer, "agent").count() == 0  # nothing is sent by a click
    await box.press("End")
    await box.type("（客服小艾）")
    await alice.get_by_test_id("ag-reply-send").click()
    await expect(said(buyer, "agent").last).to_contain_text(answer + "（客服小艾）")

    # internal notes (escaped), tags and the corrected intent
    await alice.get_by_test_id("ag-note-input").fill(NOTE)
    await alice.get_by_test_id("ag-note-add").click()
    await expect(alice.get_by_test_id("ag-note")).to_have_count(1)
    await expect(alice.get_by_test_id("ag-note").locator(".note-text")).to_have_text(NOTE)
    assert await alice.get_by_test_id("ag-notes").locator("img").count() == 0
    assert await alice.evaluate("window.pwned") is None
    await alice.get_by_test_id("ag-tag-input").fill("VIP<b>")
    await alice.get_by_test_id("ag-tag-input").press("Enter")
    await expect(alice.get_by_test_id("ag-tag")).to_contain_text("VIP<b>")
    await alice.get_by_test_id("ag-intent-select").select_option("invoice_request")
    await expect(alice.locator("#toast")).to_contain_text("invoice_request")
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer admin-token-e2e"}) as session:
        async with session.get(f"{url}/api/v1/metrics/intents") as response:
            intents = [i["intent"] for i in (await response.json())["intents"]]
    assert intents == ["invoice_request"]

    # the buyer never sees the note, even after a reload
    await buyer.reload()
    await buyer.get_by_test_id("rw-button").click()
    await expect(said(buyer, "agent").last).to_contain_text("（客服小艾）")
    assert "老客户" not in await buyer.content() and "VIP" not in await buyer.content()

    # the workbench's search: alice finds her buyer by text and opens the conversation
    await alice.get_by_test_id("ag-search-input").fill("发票开错")
    await alice.get_by_test_id("ag-search-submit").click()
    await expect(alice.get_by_test_id("ag-search-result")).to_have_count(1)
    await expect(alice.get_by_test_id("ag-search-result")).to_contain_text("发票开错了怎么办")
    await expect(alice.get_by_test_id("ag-search-status")).to_contain_text("找到 1 个会话")
    await alice.get_by_test_id("ag-search-open").click()
    await expect(alice.get_by_test_id("ag-messages")).to_contain_text("（客服小艾）")

    # bob, on a phone in English: not his conversation, so neither found nor open to him; the layout fits
    bob = await signed_in(browser, url, "/agent", PHONE, "en", "bob-token-e2e", "bob")
    await bob.get_by_test_id("ag-search-input").fill("发票开错")
    await bob.get_by_test_id("ag-search-submit").click()
    await expect(bob.get_by_test_id("ag-search-status")).to_contain_text("No conversations found")
    await expect(bob.get_by_test_id("ag-search-submit")).to_have_text("Search")
    await fits(bob)
    bad_date = await bob.evaluate("""async () => (await fetch('/api/v1/search/conversations?from=2026-02-30',
        {headers: {Authorization: 'Bearer bob-token-e2e'}})).json()""")
    assert bad_date["error"]["fields"][0]["field"] == "from"

    # alice on a phone in English: the notes panel and the quick replies' search speak English; answers stay in
    # the buyer's language (Chinese here)
    phone = await signed_in(browser, url, "/agent", PHONE, "en", "alice-token-e2e", "alice")
    await phone.get_by_test_id("ag-conv-item").first.click()
    await expect(phone.get_by_test_id("ag-notes-section")).to_contain_text("Internal notes and tags")
    await expect(phone.get_by_test_id("ag-note").locator(".note-text")).to_have_text(NOTE)
    await expect(phone.get_by_test_id("ag-intent-select")).to_have_value("invoice_request")
    await expect(phone.get_by_test_id("ag-quick-search")).to_have_attribute("placeholder", "Search answers")
    await phone.get_by_test_id("ag-quick-search").fill("发票")
    await expect(phone.get_by_test_id("ag-quick-reply").first).to_have_text(answer)
    await fits(phone)

    # the dashboard: the admin searches every conversation, in Chinese on a laptop and English on a phone
    admin = await signed_in(browser, url, "/admin", LAPTOP, "zh", "admin-token-e2e")
    await admin.get_by_test_id("ad-search-input").fill("发票")
    await admin.get_by_test_id("ad-search-submit").click()
    await expect(admin.get_by_test_id("ad-search-result")).to_have_count(1)
    await expect(admin.get_by_test_id("ad-search-state")).to_have_text("接待中")
    await admin.get_by_test_id("ad-search-view").click()
    await expect(admin.get_by_test_id("ad-search-notes")).to_contain_text(NOTE)
    assert await admin.get_by_test_id("ad-search-notes").locator("img").count() == 0
    small = await signed_in(browser, url, "/admin", PHONE, "en", "admin-token-e2e")
    await small.get_by_test_id("ad-search-by").select_option("order")
    await small.get_by_test_id("ad-search-input").fill("NO-SUCH-ORDER")
    await small.get_by_test_id("ad-search-submit").click()
    await expect(small.get_by_test_id("ad-search-status")).to_contain_text("No conversations found")
    await expect(small.get_by_test_id("ad-search-status")).to_contain_text(re.compile("Asia/Shanghai"))
    await fits(small)
