"""Photos end to end through the real app: uploads from the widget, agents and the webhook, who may see them.

Every file is decoded (Pillow), re-encoded without its metadata and served
only to the buyer of its conversation, the agent who may read it and the
admin; the rest is refused with a JSON error that names the problem.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from conftest import WEBHOOK, agent, bearer, close, columns, history, query, set_status
from PIL import Image
from test_webchat import connect, frames_until, session

from reception.core import RECEPTION
from reception.media.files import MediaFiles
from reception.media.image import Limits, process
from reception.privacy import purge

UPLOAD = "/api/v1/webchat/images"
TEAM = {"agents": [agent("alice", ["service"]), agent("bob", ["service"])]}


def jpeg(width: int = 64, height: int = 48, gps: bool = False, orientation: int | None = None,
         quality: int = 90) -> bytes:
    """A JPEG; with `gps`, EXIF that holds a GPS position and the camera, as a phone writes it."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, width // 2, height // 4))  # a mark: which way is up
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "PhoneMaker"
        exif[0x0110] = "Phone 15"
        exif[0x8825] = {1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 3.0)}
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes() if len(exif) else b"")
    return out.getvalue()


def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A tiny PNG whose header claims `width`×`height` pixels: refused before anything is decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + \
        chunk(b"IEND", b"")


async def upload(client, token: str, data: bytes, content_type: str = "image/jpeg", **query: str):
    return await client.post(UPLOAD, data=data, params=query or None,
                             headers={**bearer(token), "Content-Type": content_type})


async def buyer_with_photo(client, photo: bytes | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new widget buyer who sends a photo: (their session, the answer)."""
    buyer = await session(client)
    response = await upload(client, buyer["token"], photo or jpeg(gps=True, orientation=6), client_id="c1")
    assert response.status == 200, await response.text()
    return buyer, await response.json()


async def fetch(client, url: str, token: str | None) -> aiohttp.ClientResponse:
    return await client.get(url, headers=bearer(token) if token else {})


def media_folder(tmp_path: Path, database: str) -> Path:
    """Where the test shop keeps its photos: beside the SQLite file, or beside the config on PostgreSQL."""
    return tmp_path / ("reception-media" if "://" in database else "reception.db.media")


def error_code(body: dict[str, Any]) -> str:
    return body["error"]["code"]


async def test_a_buyer_photo_is_cleaned_stored_beside_the_database_and_handed_to_a_person(start, tmp_path,
                                                                                          database):
    client = await start(**TEAM)
    await set_status(client, "alice", "online")
    buyer, answer = await buyer_with_photo(client)
    image = answer["image"]
    # the photo is a consultation: a person looks at it, and the buyer is told so
    assert answer["status"] == "assigned" and answer["handover"] == {"reason": "image"}
    assert (image["mime"], image["width"], image["height"]) == ("image/jpeg", 48, 64)  # turned upright
    assert len(image["id"]) >= 32 and image["url"] == f"/api/v1/media/{image['id']}"
    messages = await history(client, answer["conversation_id"])
    assert messages[0]["sender"] == "buyer" and messages[0]["image"]["id"] == image["id"]
    # the file lives outside the database, in the folder beside it, and a row says whose it is
    files = [p for p in media_folder(tmp_path, database).rglob("*") if p.is_file()]
    assert sorted(p.name.split(".", 1)[1] for p in files) == ["jpg", "thumb.jpg"]
    assert "media" in columns(database) and "image" in columns(database)["messages"]
    assert query(database, "SELECT conversation_id, sender, mime, width, height FROM media") == [
        (answer["conversation_id"], "buyer", "image/jpeg", 48, 64)]
    # served to the buyer, with the headers a photo needs, and without its EXIF (no GPS, no camera)
    response = await fetch(client, image["url"], buyer["token"])
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline; filename=")
    assert "private" in response.headers["Cache-Control"] and "immutable" in response.headers["Cache-Control"]
    stored = Image.open(io.BytesIO(await response.read()))
    assert stored.size == (48, 64) and not stored.getexif() and "exif" not in stored.info
    assert stored.getpixel((40, 2))[2] > 150  # the blue mark, upright: top right after the 90° turn
    thumb = await fetch(client, image["thumb_url"], buyer["token"])
    assert thumb.status == 200 and Image.open(io.BytesIO(await thumb.read())).format == "JPEG"
    # the agent who holds the conversation sees it, and the admin
    assert (await fetch(client, image["url"], "alice-token")).status == 200
    assert (await fetch(client, image["thumb_url"], "admin-token-for-tests")).status == 200


async def test_the_bot_says_it_passed_the_photo_on_and_the_reply_clock_runs(start):
    client = await start(**TEAM)
    await set_status(client, "alice", "online")
    buyer = await session(client)
    ws, _ = await connect(client, buyer["token"])
    response = await upload(client, buyer["token"], jpeg(), client_id="photo-1")
    answer = await response.json()
    assert "图片" in answer["replies"][0]["text"] and "人工" in answer["replies"][0]["text"]  # the bot says so
    frames = await frames_until(ws, "message")
    assert frames[-1]["sender"] == "buyer" and frames[-1]["client_id"] == "photo-1"
    assert frames[-1]["image"]["thumb_url"].endswith("/thumb")
    conversations = await client.get("/api/v1/agents/shop:alice/conversations", headers=bearer("alice-token"))
    [held] = (await conversations.json())["conversations"]
    assert held["handover_reason"] == "image" and held["awaiting_since"] is not None  # a reply is due
    # a resend of the same upload is the same message, stored once
    again = await upload(client, buyer["token"], jpeg(), client_id="photo-1")
    assert (await again.json())["conversation_id"] == answer["conversation_id"]
    assert [m["sender"] for m in await history(client, answer["conversation_id"])].count("buyer") == 1
    await ws.close()
    # a buyer on an English page who has written nothing yet is told in English
    english = await session(client)
    told = await (await upload(client, english["token"], jpeg(), client_id="photo-en", lang="en")).json()
    assert "photo" in told["replies"][0]["text"].lower() and not any("\u4e00" <= c <= "\u9fff"
                                                                    for c in told["replies"][0]["text"])


async def test_with_nobody_online_the_bot_keeps_the_photo_for_the_humans(start):
    client = await start(**TEAM)
    _, answer = await buyer_with_photo(client, jpeg())
    assert answer["handover"] == {"reason": "image"} and answer["status"] in ("offline", "queued")
    assert answer["replies"] and answer["replies"][0]["sender"] == "system"


@pytest.mark.parametrize("name, body, content_type, status, code", [
    ("text declared as a JPEG", b"hello, not a photo at all", "image/jpeg", 422, "not_an_image"),
    ("an HTML page declared as a PNG", b"<!doctype html><script>alert(1)</script>", "image/png", 415,
     "unsupported_image_type"),
    ("an SVG drawing", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/png", 415,
     "unsupported_image_type"),
    ("a GIF", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/jpeg", 415, "unsupported_image_type"),
    ("a declared text type", b"anything", "text/html", 415, "unsupported_image_type"),
    ("a truncated JPEG", jpeg(400, 300)[:600], "image/jpeg", 422, "invalid_image"),
    ("a decompression bomb", png_bomb(), "image/png", 422, "image_too_many_pixels"),
    ("an empty body", b"", "image/jpeg", 422, "not_an_image"),
])
async def test_anything_but_a_photo_is_refused_saying_why(client, tmp_path, database, name, body, content_type, status,
                                                          code):
    buyer = await session(client)
    response = await upload(client, buyer["token"], body, content_type)
    assert response.status == status, (name, await response.text())
    answer = await response.json()
    assert error_code(answer) == code and answer["error"]["message"]
    assert not [p for p in media_folder(tmp_path, database).rglob("*") if p.is_file()]  # nothing stored


async def test_a_photo_over_the_limit_is_refused_with_413(start):
    client = await start(media={"max_bytes": 100_000})
    buyer = await session(client)
    big = jpeg(900, 900, quality=100) + b"\x00" * 100_000
    response = await upload(client, buyer["token"], big)
    assert response.status == 413
    body = await response.json()
    assert error_code(body) == "image_too_large" and "at most" in body["error"]["message"]


async def test_a_buyer_who_floods_photos_is_told_to_wait_and_nothing_of_the_flood_is_kept(start, tmp_path,
                                                                                         database, clock):
    client = await start(media={"buyer_photos_per_minute": 3})
    buyer, other = await session(client), await session(client)
    for n in range(3):
        assert (await upload(client, buyer["token"], jpeg(), client_id=f"p{n}")).status == 200
    refused = await upload(client, buyer["token"], jpeg(), client_id="p3")
    assert refused.status == 429 and refused.headers["Retry-After"] == "20"
    body = await refused.json()
    assert error_code(body) == "too_many_photos" and "3 photos a minute" in body["error"]["message"]
    assert len([p for p in media_folder(tmp_path, database).rglob("*") if p.is_file()]) == 3 * 2  # photo, thumb
    assert (await upload(client, other["token"], jpeg())).status == 200  # each buyer has their own allowance
    await clock.advance(20)  # one photo's worth back, 60/3 s later
    assert (await upload(client, buyer["token"], jpeg(), client_id="p3")).status == 200
    assert (await upload(client, buyer["token"], jpeg(), client_id="p4")).status == 429


async def test_a_photo_over_ten_megabytes_is_refused_by_default(client):
    buyer = await session(client)
    response = await upload(client, buyer["token"], b"\xff\xd8" + b"\x00" * (10 * 1024 * 1024))
    assert response.status == 413 and error_code(await response.json()) == "image_too_large"


async def test_png_webp_and_heic_are_taken_and_heic_becomes_jpeg(client):
    buyer = await session(client)
    for fmt, declared, stored in (("PNG", "image/png", "image/png"), ("WEBP", "image/webp", "image/webp"),
                                  ("HEIF", "image/heic", "image/jpeg")):
        out = io.BytesIO()
        if fmt == "HEIF":
            from pillow_heif import register_heif_opener

            register_heif_opener()
        Image.new("RGBA" if fmt == "PNG" else "RGB", (30, 20), (10, 200, 10)).save(out, fmt)
        response = await upload(client, buyer["token"], out.getvalue(), declared)
        assert response.status == 200, (fmt, await response.text())
        assert (await response.json())["image"]["mime"] == stored


async def test_only_the_buyer_the_agent_who_holds_it_and_the_admin_see_a_photo(start):
    client = await start(**TEAM)
    await set_status(client, "alice", "online")
    owner, answer = await buyer_with_photo(client)
    url = answer["image"]["url"]
    stranger = await session(client)
    assert (await fetch(client, url, owner["token"])).status == 200
    for token, status in ((stranger["token"], 404), ("bob-token", 404), (None, 401), ("forged-token", 401),
                          (owner["token"][:-4] + "abcd", 401)):
        response = await fetch(client, url, token)
        assert response.status == status, token
        assert "error" in await response.json()
    assert (await fetch(client, url, "admin-token-for-tests")).status == 200
    # an unknown id and one shaped like a path say nothing more than a hidden photo
    assert (await fetch(client, "/api/v1/media/" + "A" * 32, owner["token"])).status == 404
    assert (await fetch(client, "/api/v1/media/..%2F..%2Freception.db", "admin-token-for-tests")).status == 404


async def test_an_agent_sends_a_photo_the_buyer_sees_it_and_another_agent_cannot(start, database):
    client = await start(**TEAM)
    await set_status(client, "alice", "online")
    buyer = await session(client)
    ws, _ = await connect(client, buyer["token"])
    await ws.send_json({"type": "message", "client_id": "m1", "text": "转人工"})
    await frames_until(ws, "status")
    conv = query(database, "SELECT id FROM conversations")[0][0]
    photo = jpeg(300, 200)
    refused = await client.post(f"/api/v1/conversations/{conv}/images", data=photo,
                                headers={**bearer("bob-token"), "Content-Type": "image/jpeg"})
    assert refused.status == 403 and error_code(await refused.json()) == "not_your_conversation"
    sent = await client.post(f"/api/v1/conversations/{conv}/images", data=photo,
                             headers={**bearer("alice-token"), "Content-Type": "image/jpeg"})
    assert sent.status == 200, await sent.text()
    message = (await sent.json())["message"]
    assert message["sender"] == "agent" and message["image"]["width"] == 300
    frames = await frames_until(ws, "message")
    while frames[-1].get("image") is None:
        frames = await frames_until(ws, "message")
    assert frames[-1]["sender"] == "agent"
    assert (await fetch(client, frames[-1]["image"]["url"], buyer["token"])).status == 200
    assert (await fetch(client, frames[-1]["image"]["url"], "bob-token")).status == 404
    assert query(database, "SELECT sender, uploader FROM media") == [("agent", "shop:alice")]
    assert "kind" not in message  # a reply, not the greeting: the buyer has been answered
    assert query(database, "SELECT first_reply_at IS NOT NULL, awaiting_since FROM conversations") == [(1, None)]
    await ws.close()


async def test_the_webhook_takes_a_photo_as_a_form_and_the_callback_carries_it(start, database):
    client = await start(webhook={"callback_url": "http://127.0.0.1:9/callback"}, **TEAM)
    await set_status(client, "alice", "online")
    form = aiohttp.FormData()
    form.add_field("customer_id", "shop-buyer-1")
    form.add_field("message_id", "p-1")
    form.add_field("text", "收到的杯子是碎的")
    form.add_field("image", jpeg(gps=True), filename="IMG_0001.jpg", content_type="image/jpeg")
    response = await client.post(WEBHOOK, data=form)
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["status"] == "assigned" and answer["handover"]["reason"] == "image"
    assert answer["image"]["mime"] == "image/jpeg"
    conv = answer["conversation_id"]
    reply = await client.post(f"/api/v1/conversations/{conv}/images", data=jpeg(120, 80),
                              headers={**bearer("alice-token"), "Content-Type": "image/jpeg"})
    assert reply.status == 200
    import json

    payloads = [json.loads(p) for (p,) in query(database, "SELECT payload FROM deliveries")]
    carried = [p["message"]["image"] for p in payloads if "image" in p["message"]]
    assert carried and carried[-1]["url"].startswith("/api/v1/media/") and carried[-1]["width"] == 120
    # the shop fetches it with the admin token
    assert (await fetch(client, carried[-1]["url"], "admin-token-for-tests")).status == 200
    # a form without a photo or text, and one with a stray file, say what is wrong
    empty = aiohttp.FormData(default_to_multipart=True)
    empty.add_field("customer_id", "shop-buyer-2")
    bad = await client.post(WEBHOOK, data=empty)
    assert bad.status == 422 and "text" in (await bad.json())["error"]["message"]
    stray = aiohttp.FormData()
    stray.add_field("customer_id", "shop-buyer-2")
    stray.add_field("video", b"....", filename="clip.mp4", content_type="video/mp4")
    bad = await client.post(WEBHOOK, data=stray)
    assert bad.status == 422 and "video" in (await bad.json())["error"]["message"]


async def test_the_webhook_fetches_an_image_url_but_never_from_a_private_address(start, aiohttp_server):
    photo = jpeg(80, 60)

    async def serve(request: web.Request) -> web.StreamResponse:
        if request.path == "/hop":
            raise web.HTTPFound("/photo.jpg")
        if request.path == "/page":
            return web.Response(text="<html></html>", content_type="text/html")
        return web.Response(body=photo, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    host = await aiohttp_server(app)
    base = f"http://127.0.0.1:{host.port}"
    strict = await start()
    for url in (f"{base}/photo.jpg", "http://169.254.169.254/latest/meta-data", "http://[::1]/x.jpg",
                "http://10.0.0.8/x.jpg", "http://[::ffff:127.0.0.1]/x.jpg"):
        response = await strict.post(WEBHOOK, json={"customer_id": "u1", "image_url": url})
        assert response.status == 422, url
        assert error_code(await response.json()) == "image_url_refused", url
    await strict.close()
    trusting = await start(media={"fetch_private": True})
    ok = await trusting.post(WEBHOOK, json={"customer_id": "u2", "image_url": f"{base}/hop"})
    assert ok.status == 200, await ok.text()
    assert (await ok.json())["image"]["width"] == 80
    page = await trusting.post(WEBHOOK, json={"customer_id": "u3", "image_url": f"{base}/page"})
    assert page.status == 415 and error_code(await page.json()) == "unsupported_image_type"
    nothing = await trusting.post(WEBHOOK, json={"customer_id": "u4", "image_url": "http://127.0.0.1:9/x.jpg"})
    assert nothing.status == 422 and error_code(await nothing.json()) == "image_fetch_failed"


async def test_erased_photos_take_their_files_with_them(start, tmp_path, database, clock):
    client = await start(store={"retain_days": 1}, **TEAM)
    await set_status(client, "alice", "online")
    _, answer = await buyer_with_photo(client, jpeg())
    await close(client, answer["conversation_id"], "alice")
    folder = media_folder(tmp_path, database)
    assert len([p for p in folder.rglob("*") if p.is_file()]) == 2
    counts = await purge(client.app[RECEPTION], clock.now() + timedelta(days=3))  # the daily retention run
    assert counts["photos"] == 1 and query(database, "SELECT COUNT(*) FROM media") == [(0,)]
    assert not [p for p in folder.rglob("*") if p.is_file()]


async def test_a_file_no_message_names_is_swept_but_not_one_still_on_its_way(tmp_path):
    files = MediaFiles(tmp_path / "media")
    photo = process(jpeg(), Limits(10**7, 10**7, 64))
    for name in ("orphan-aaaaaaaaaaaaaaaaaaaa", "kept-bbbbbbbbbbbbbbbbbbbbbbb", "fresh-cccccccccccccccccccc"):
        files.write(name, photo)
    old = files.path("orphan-aaaaaaaaaaaaaaaaaaaa", photo.mime).stat().st_mtime - 7200
    for name in ("orphan-aaaaaaaaaaaaaaaaaaaa", "kept-bbbbbbbbbbbbbbbbbbbbbbb"):
        for path in files.path(name, photo.mime).parent.glob(f"{name}.*"):
            os.utime(path, (old, old))

    async def known(ids):
        return {"kept-bbbbbbbbbbbbbbbbbbbbbbb"} & set(ids)

    assert await files.sweep(known) == 1
    assert set(files.stored_ids()) == {"kept-bbbbbbbbbbbbbbbbbbbbbbb", "fresh-cccccccccccccccccccc"}
