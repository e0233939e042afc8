"""`reception serve` as a user runs it: one line with the URL, answers, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3

import aiohttp
from conftest import CLI, serve


async def test_serve_answers_and_sigterm_loses_nothing(tmp_path):
    db = tmp_path / "shop.db"
    proc, url = await serve("--db", str(db), cwd=tmp_path)
    n = 60
    try:
        async with aiohttp.ClientSession() as session:
            async def one(i: int) -> int:
                body = {"message_id": f"m{i}", "customer_id": f"buyer{i}", "text": "where is my parcel"}
                async with session.post(f"{url}/api/v1/webhook/messages", json=body) as response:
                    return response.status
            tasks = [asyncio.create_task(one(i)) for i in range(n)]
            # stop once the first answer is back, with the others in flight (a fixed delay flaked on a busy machine)
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            proc.send_signal(signal.SIGTERM)
            statuses = await asyncio.gather(*tasks, return_exceptions=True)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
    accepted = [i for i, s in enumerate(statuses) if s == 200]
    assert accepted, statuses
    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute("SELECT message_id FROM messages WHERE sender='buyer'")}
    assert {f"m{i}" for i in accepted} <= stored


async def test_demo_shop_starts_with_no_flags(tmp_path):
    proc, url = await serve(cwd=tmp_path)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/api/v1/webhook/messages",
                                    json={"customer_id": "c", "text": "我的快递到哪了"}) as response:
                body = await response.json()
        assert body["replies"][0]["intent"] == "logistics_tracking"
        assert (tmp_path / "reception-data" / "demo.db").exists()
    finally:
        proc.terminate()
        await proc.wait()


async def test_a_bad_config_stops_the_start_with_one_line(tmp_path):
    (tmp_path / "reception.toml").write_text('[bot]\nanswer_threshold = "x"\n', encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(*CLI, "serve", cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "bot.answer_threshold" in lines[0] and "Traceback" not in err.decode()


async def test_a_bad_faq_stops_the_start_with_one_line(tmp_path):
    (tmp_path / "faq").mkdir()
    (tmp_path / "faq" / "x.yaml").write_text("- id: a\n  questions: [hi]\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(*CLI, "serve", "--faq", "faq", "--db", "x.db", cwd=tmp_path,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 2
    assert "x.yaml" in err.decode() and "answer" in err.decode() and "Traceback" not in err.decode()


async def test_sighup_reloads_a_hand_edited_faq_without_a_restart(tmp_path):
    import shutil

    from reception.config import BUNDLED_FAQ

    faq = tmp_path / "faq"
    shutil.copytree(BUNDLED_FAQ, faq)
    proc, url = await serve("--faq", "faq", "--db", "shop.db", cwd=tmp_path)
    buyers = iter(range(100))

    async def answer(session) -> str:
        body = {"customer_id": f"buyer{next(buyers)}", "text": "什么时候发货"}
        async with session.post(f"{url}/api/v1/webhook/messages", json=body) as response:
            return (await response.json())["replies"][0]["text"]

    try:
        async with aiohttp.ClientSession() as session:
            assert "48 小时内发货" in await answer(session)
            # a same-size edit with the old modification time: the 2-second watcher cannot see it, SIGHUP can
            path = faq / "shipping.yaml"
            stat = path.stat()
            path.write_text(path.read_text(encoding="utf-8").replace("48 小时内发货", "24 小时内发货"),
                            encoding="utf-8")
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            assert path.stat().st_size == stat.st_size
            await asyncio.sleep(2.5)
            assert "48 小时内发货" in await answer(session)
            proc.send_signal(signal.SIGHUP)
            for _ in range(100):
                if "24 小时内发货" in await answer(session):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("SIGHUP did not reload the FAQ")
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
