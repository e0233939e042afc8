"""Webhook throughput: `reception serve` against a bare aiohttp JSON endpoint, same machine, same run.

Each target runs in its own process; one load process drives it over
loopback with many concurrent buyers, each message a fresh POST, and reports
messages per second and p50/p99 latency. For reception, every answered
message is checked on disk afterwards.

    python bench/webhook_load.py [--requests 4000] [--concurrency 64] [--buyers 800]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from reception.faq.loader import load_dir  # noqa: E402

PREFIXES = ["", "亲，", "你好，", "hi, ", "请问", "在吗 ", "hello "]
SUFFIXES = ["", "？", "?", " 谢谢", " thanks", "呢", "啊", "!!"]


def _questions(rng: random.Random, n: int) -> list[str]:
    """Buyer messages made from the bundled FAQ's phrasings, decorated so that few repeat exactly."""
    phrasings = [q for entry in load_dir(ROOT / "faq") for q in entry.questions] + ["转人工", "asdf qwer"]
    return [rng.choice(PREFIXES) + rng.choice(phrasings) + rng.choice(SUFFIXES) for _ in range(n)]


async def _launch(cmd: list[str], env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        if not line:
            raise RuntimeError(f"{cmd} exited before listening")
        if "http://" in line:
            url = line[line.index("http://"):].split()[0]
            return proc, url


async def _drive(url: str, requests: int, concurrency: int, buyers: int, tag: str) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    rng = random.Random(7)
    texts = _questions(rng, requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            nonlocal errors
            for i in counter:
                body = {"message_id": f"{tag}-{i}", "customer_id": f"buyer-{rng.randrange(buyers)}",
                        "text": texts[i]}
                start = time.perf_counter()
                async with session.post(f"{url}/api/v1/webhook/messages", json=body) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rate": requests / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000, "errors": errors, "n": requests}


async def _run_target(name: str, cmd: list[str], args: argparse.Namespace, db: Path | None) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}
    proc, url = await _launch(cmd, env)
    try:
        await _drive(url, min(300, args.requests), args.concurrency, args.buyers, f"warm-{name}")  # warm up
        result = await _drive(url, args.requests, args.concurrency, args.buyers, name)
    finally:
        proc.terminate()
        await proc.wait()
    if db is not None:
        with sqlite3.connect(db) as conn:
            stored = conn.execute("SELECT COUNT(*) FROM messages WHERE sender='buyer' AND message_id LIKE ?",
                                  (f"{name}-%",)).fetchone()[0]
        result["stored"] = stored
    return result


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--buyers", type=int, default=800)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="reception-bench-"))
    py = sys.executable
    rows = [("bare aiohttp JSON endpoint", await _run_target("bare", [py, "bench/bare_server.py"], args, None))]
    for sync in ("FULL", "NORMAL"):
        db = tmp / f"bench-{sync}.db"
        config = tmp / f"bench-{sync}.toml"
        config.write_text(f'faq = ["{ROOT / "faq"}"]\n[admin]\ntoken = "bench-admin-token"\n'
                          f'[store]\npath = "{db}"\nsynchronous = "{sync}"\n', encoding="utf-8")
        cmd = [py, "-m", "reception.cli", "serve", "--config", str(config), "--port", "0"]
        rows.append((f"reception, synchronous={sync}", await _run_target(f"rec{sync}", cmd, args, db)))
    base = rows[0][1]["rate"]
    print(f"\n{args.requests} messages, {args.concurrency} concurrent connections, {args.buyers} buyers, "
          f"{os.cpu_count()} cores\n")
    print(f"{'target':34} {'msgs/s':>8} {'vs bare':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'on disk':>8}")
    for name, r in rows:
        disk = str(r.get("stored", "-"))
        print(f"{name:34} {r['rate']:8.0f} {r['rate'] / base:8.2f} {r['p50']:8.2f} {r['p99']:8.2f} "
              f"{int(r['errors']):7d} {disk:>8}")


if __name__ == "__main__":
    asyncio.run(main())
