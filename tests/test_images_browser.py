"""Photos in headless Chromium: a buyer sends one from the widget, the agent opens it and sends one back.

The same real `reception serve` and Chromium as tests/test_browser.py (its
fixtures), at laptop size with the file picker and at phone size with drag
and drop; the photos are fetched with each side's token and shown as blob:
URLs under the pages' CSP.
"""

from __future__ import annotations

import asyncio
import io
import re

import aiohttp
from PIL import Image
from playwright.async_api import Page, expect
from test_browser import agent_page, browser, buyer_page, server  # noqa: F401  (fixtures and helpers)

PHONE = {"width": 390, "height": 844}
BLOB = re.compile(r"^blob:")


def photo(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (width, height), color)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


async def wait_shown(locator, timeout: float = 10_000) -> None:
    """The <img> has a blob: source that decoded (naturalWidth > 0)."""
    await expect(locator).to_have_attribute("src", BLOB, timeout=timeout)
    handle = await locator.element_handle()
    await locator.page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=handle,
                                         timeout=timeout)


async def online(url: str, name: str) -> None:
    """The server has the agent online (a buyer's handover must find them)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            async with session.get(f"{url}/api/v1/agents/shop:{name}",
                                   headers={"Authorization": f"Bearer {name}-token-e2e"}) as response:
                if response.status == 200 and (await response.json())["agent"]["status"] == "online":
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{name} did not come online")


async def agent_opens_the_buyer_photo(agent: Page) -> None:
    item = agent.get_by_test_id("ag-conv-item").first
    await expect(item).to_be_visible(timeout=10_000)
    await item.click()
    thumb = agent.get_by_test_id("ag-photo-thumb").first
    await wait_shown(thumb)
    await agent.get_by_test_id("ag-photo").first.click()
    viewer = agent.get_by_test_id("ag-photo-viewer")
    await expect(viewer).to_be_visible()
    await wait_shown(agent.get_by_test_id("ag-photo-full"))
    await agent.get_by_test_id("ag-photo-close").click()
    await expect(viewer).to_be_hidden()


async def agent_sends_a_photo(agent: Page, buyer: Page) -> None:
    await agent.get_by_test_id("ag-photo-input").set_input_files(
        {"name": "size-chart.jpg", "mimeType": "image/jpeg", "buffer": photo(600, 400, (30, 120, 200))})
    sent = buyer.locator('[data-testid="rw-message"][data-sender="agent"] [data-testid="rw-photo-img"]')
    await wait_shown(sent.last)
    await buyer.locator('[data-testid="rw-message"][data-sender="agent"] [data-testid="rw-photo"]').last.click()
    await wait_shown(buyer.get_by_test_id("rw-viewer-img"))
    await buyer.get_by_test_id("rw-viewer-close").click()
    await expect(buyer.get_by_test_id("rw-viewer")).to_be_hidden()


async def paste(page: Page, testid: str, data: bytes) -> None:
    """Paste `data` as a JPEG into the element `testid` (in the widget's shadow root when there is one),
    as a clipboard would."""
    await page.evaluate("""([testid, bytes]) => {
        const widget = document.querySelector('reception-widget');
        const box = (widget ? widget.shadowRoot : document).querySelector(`[data-testid="${testid}"]`);
        const clip = new DataTransfer();
        clip.items.add(new File([new Uint8Array(bytes)], 'pasted.jpg', { type: 'image/jpeg' }));
        box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: clip, bubbles: true, cancelable: true }));
    }""", [testid, list(data)])


async def test_a_buyer_sends_a_photo_from_the_picker_and_the_agent_answers_with_one(server, browser):  # noqa: F811
    agent = await agent_page(browser, server, "alice")
    # a slow network: the photo is picked while the widget's session request is still on its way, so the
    # upload must wait for that session rather than open a second one (a second buyer, who never sees it)
    buyer = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    sessions = []

    async def slow(route):
        sessions.append(route.request.url)
        await asyncio.sleep(0.5)
        await route.continue_()
    await buyer.route("**/api/v1/webchat/session", slow)
    await buyer.goto(server + "/")
    await buyer.get_by_test_id("rw-button").click()
    await buyer.get_by_test_id("rw-photo-input").set_input_files(
        {"name": "broken-cup.jpg", "mimeType": "image/jpeg", "buffer": photo(1600, 1200, (200, 40, 40))})
    mine = buyer.locator('[data-testid="rw-message"][data-sender="buyer"]')
    await expect(mine).to_have_count(1)
    await wait_shown(mine.get_by_test_id("rw-photo-img"))
    await expect(mine).not_to_have_attribute("data-state", "sending", timeout=10_000)  # the server's copy
    await expect(buyer.get_by_test_id("rw-messages")).to_contain_text("图片")  # the bot says it passed it on
    assert len(sessions) == 1, sessions
    await agent_opens_the_buyer_photo(agent)
    await agent_sends_a_photo(agent, buyer)
    # a photo pasted into the message box goes too, on both sides
    await paste(buyer, "rw-input", photo(500, 500, (90, 90, 20)))
    await expect(mine.get_by_test_id("rw-photo-img")).to_have_count(2)
    await paste(agent, "ag-reply-input", photo(300, 200, (20, 90, 90)))
    theirs = buyer.locator('[data-testid="rw-message"][data-sender="agent"] [data-testid="rw-photo-img"]')
    await expect(theirs).to_have_count(2, timeout=10_000)
    # a file that is not a photo is refused with the reason, in the buyer's language
    await buyer.get_by_test_id("rw-photo-input").set_input_files(
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo at all"})
    await expect(buyer.get_by_test_id("rw-error")).to_contain_text("不是图片")


async def test_at_phone_size_a_photo_dropped_on_the_widget_reaches_the_agent(server, browser):  # noqa: F811
    """At phone size and in English: the agent's workbench and the shop's page both in English."""
    agent = await (await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    await agent.goto(server + "/agent?lang=en")
    await agent.get_by_test_id("ag-login-id").fill("shop:bob")
    await agent.get_by_test_id("ag-login-token").fill("bob-token-e2e")
    await agent.get_by_test_id("ag-login-submit").click()
    await agent.get_by_test_id("ag-status-online").click()
    await online(server, "bob")
    buyer = await (await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    await buyer.add_init_script("new MutationObserver((_, seen) => { if (document.documentElement) {"
                                " document.documentElement.lang = 'en'; seen.disconnect(); } })"
                                ".observe(document, { childList: true })")  # the widget follows <html lang>
    await buyer.goto(server + "/")
    await buyer.get_by_test_id("rw-button").click()
    await expect(buyer.get_by_test_id("rw-panel")).to_be_visible()
    data = list(photo(900, 1200, (40, 160, 60)))
    await buyer.evaluate("""(bytes) => {
        const file = new File([new Uint8Array(bytes)], 'parcel.jpg', { type: 'image/jpeg' });
        const drop = new DataTransfer();
        drop.items.add(file);
        const panel = document.querySelector('reception-widget').shadowRoot.querySelector('[data-testid="rw-panel"]');
        panel.dispatchEvent(new DragEvent('dragover', { dataTransfer: drop, bubbles: true, cancelable: true }));
        panel.dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
    }""", data)
    mine = buyer.locator('[data-testid="rw-message"][data-sender="buyer"]')
    await wait_shown(mine.get_by_test_id("rw-photo-img"))
    await agent_opens_the_buyer_photo(agent)
    await agent_sends_a_photo(agent, buyer)
    await buyer.get_by_test_id("rw-photo-input").set_input_files(
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo at all"})
    await expect(buyer.get_by_test_id("rw-error")).to_contain_text("This file is not a photo")
