"""Take the screenshots in docs/: the shop page with the widget, the agent workbench, the dashboard.

Runs a real `reception serve` with two agents on a throwaway database, plays a
little traffic through the pages in Debian's Chromium, and saves each page at
laptop (1280×800) and phone (390×844) width.

    python docs/screenshots.py
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import ARGS, CHROMIUM, CONFIG  # noqa: E402

SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "reception.toml").write_text(CONFIG.format(faq=ROOT / "faq"), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "reception.cli", "serve", "--config", "reception.toml", "--port", "0",
            cwd=tmp, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        assert proc.stdout is not None
        while "http://" not in (line := (await proc.stdout.readline()).decode()):
            assert line, "the server did not start"
        url = line[line.index("http://"):].split()[0]
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                await _shoot(browser, url)
                await browser.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()


def _photo(name: str, color: tuple[int, int, int]) -> dict:
    """A picture to send: a box on a table for the buyer, a grid like a size chart for the agent."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (900, 600), color)
    draw = ImageDraw.Draw(image)
    if name.endswith(".png"):
        for x in range(0, 900, 150):
            draw.line([(x, 0), (x, 600)], fill=(90, 120, 160), width=3)
        for y in range(0, 600, 100):
            draw.line([(0, y), (900, y)], fill=(90, 120, 160), width=3)
        draw.rectangle([0, 0, 900, 100], fill=(60, 110, 180))
    else:
        draw.rectangle([220, 150, 680, 470], fill=(176, 128, 80), outline=(120, 80, 40), width=8)
        draw.line([(220, 310), (680, 310)], fill=(230, 220, 190), width=30)
        draw.line([(300, 180), (520, 420)], fill=(60, 40, 20), width=6)  # the crack
    out = io.BytesIO()
    image.save(out, "PNG" if name.endswith(".png") else "JPEG", quality=88)
    return {"name": name, "mimeType": "image/png" if name.endswith(".png") else "image/jpeg", "buffer": out.getvalue()}


async def _page(browser, size: str):
    return await (await browser.new_context(viewport=SIZES[size], locale="zh-CN")).new_page()


async def _shoot(browser, url: str) -> None:
    agent = await _page(browser, "laptop")
    await agent.goto(url + "/agent")
    await agent.get_by_test_id("ag-login-id").fill("shop:alice")
    await agent.get_by_test_id("ag-login-token").fill("alice-token-e2e")
    await agent.get_by_test_id("ag-login-submit").click()
    await agent.get_by_test_id("ag-status-online").click()
    for size in SIZES:
        buyer = await _page(browser, size)
        await buyer.goto(url + "/")
        await buyer.get_by_test_id("rw-button").click()
        for text in ("我的快递到哪了", "可以七天无理由退货吗", "转人工"):
            await buyer.get_by_test_id("rw-input").fill(text)
            await buyer.get_by_test_id("rw-send").click()
            await buyer.wait_for_timeout(600)
        await buyer.get_by_test_id("rw-photo-input").set_input_files(_photo("parcel.jpg", (214, 170, 120)))
        await buyer.wait_for_timeout(1000)
        await buyer.screenshot(path=str(DOCS / f"widget-{size}.png"))
    await agent.wait_for_timeout(1000)
    await agent.get_by_test_id("ag-conv-item").first.click()
    await agent.get_by_test_id("ag-reply-input").fill("亲，您好，我是 Alice，这就帮您看看～")
    await agent.get_by_test_id("ag-reply-send").click()
    await agent.get_by_test_id("ag-photo-input").set_input_files(_photo("size-chart.png", (235, 242, 250)))
    await agent.wait_for_timeout(1200)
    await agent.screenshot(path=str(DOCS / "agent-laptop.png"))
    phone = await _page(browser, "phone")
    await phone.goto(url + "/agent")
    await phone.get_by_test_id("ag-login-id").fill("shop:alice")
    await phone.get_by_test_id("ag-login-token").fill("alice-token-e2e")
    await phone.get_by_test_id("ag-login-submit").click()
    await phone.wait_for_timeout(800)
    await phone.screenshot(path=str(DOCS / "agent-phone.png"))
    for size in SIZES:
        admin = await _page(browser, size)
        await admin.goto(url + "/admin")
        await admin.get_by_test_id("ad-login-token").fill("admin-token-e2e")
        await admin.get_by_test_id("ad-login-submit").click()
        await admin.get_by_test_id("ad-try-input").fill("可以开发票吗")
        await admin.get_by_test_id("ad-try-submit").click()
        await admin.wait_for_timeout(1000)
        await admin.evaluate("window.scrollTo(0, 0)")
        await admin.wait_for_timeout(200)
        await admin.screenshot(path=str(DOCS / f"admin-{size}.png"))


if __name__ == "__main__":
    asyncio.run(main())
