"""Crash test: SIGTERM and kill -9 under concurrent signed load lose no acknowledged message.

Runs a real `reception serve` with a webhook secret on a fresh database and, in
each round, drives it with concurrent clients that sign every message
(`X-Reception-Signature`, HMAC-SHA256 of the body) and give each a unique
`message_id`. At a random moment under load the server is stopped, with
SIGTERM in three rounds and `kill -9` in three, then started again on the same
database for the next round. A message is acknowledged when its 200 answer
was read whole. After the last round the server is started once more, the
messages that were sent but never answered are sent again with the same
`message_id` (a client's retry), and the server is stopped. Then the SQLite
file is read: every acknowledged `message_id` must be there, and no
`message_id` twice. Exits 1 if any is lost or doubled.

    python bench/crash.py [--clients 32] [--rounds 3] [--seed 1] [--synchronous FULL|NORMAL]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SECRET = "crash-test-webhook-secret"
TEXTS = ["亲，我的快递到哪了？", "什么时候发货", "可以开发票吗", "七天无理由退货怎么弄", "转人工",
         "where is my parcel", "how long does shipping take", "can I get an invoice", "你好", "谢谢"]


def sign(body: bytes) -> str:
    """The `X-Reception-Signature` the server expects (CONTRACT.md; reception/auth.py `sign`)."""
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Round:
    number: int
    how: str                      # "SIGTERM" or "kill -9"
    sent: dict[str, dict] = field(default_factory=dict)   # message_id -> the message, once a connection took it
    acknowledged: set[str] = field(default_factory=set)
    refused: int = 0                                      # answers other than 200 (none expected)
    under_load: float = 0.0
    exit_status: int | None = None
    stop_seconds: float = 0.0


class Server:
    """One `reception serve` process on the shared database."""

    def __init__(self, workdir: Path, config: Path) -> None:
        self.workdir, self.config = workdir, config
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        log = open(self.workdir / f"serve-{self.starts}.log", "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "reception.cli", "serve", "--config", str(self.config), "--port", "0",
            cwd=self.workdir, env=env, stdout=asyncio.subprocess.PIPE, stderr=log)
        assert self.proc.stdout is not None
        while True:
            line = (await asyncio.wait_for(self.proc.stdout.readline(), 120)).decode()
            if not line:
                raise RuntimeError(f"the server exited before listening; see {log.name}")
            if "http://" in line:
                self.url = line[line.index("http://"):].split()[0]
                break
        asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while await self.proc.stdout.readline():
            pass

    async def stop(self, sig: int) -> tuple[int, float]:
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(sig)
        status = await asyncio.wait_for(self.proc.wait(), 60)
        return status, time.monotonic() - started


async def post(session: aiohttp.ClientSession, url: str, message: dict) -> bool:
    """Send one signed message; True when its 200 answer was read whole (acknowledged)."""
    body = json.dumps(message, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Reception-Signature": sign(body)}
    async with session.post(f"{url}/api/v1/webhook/messages", data=body, headers=headers) as response:
        answer = await response.json()
        if response.status != 200:
            raise RuntimeError(f"{response.status} {answer}")
        return "conversation_id" in answer


async def load_round(server: Server, rnd: Round, clients: int, rng: random.Random, sig: int) -> None:
    """Clients send until the server goes away; it is stopped at a random moment once answers flow."""
    first_answer = asyncio.Event()
    dead = asyncio.Event()

    async def client(c: int) -> None:
        seq = 0
        while not dead.is_set():
            message_id = f"r{rnd.number}-c{c}-{seq}"
            message = {"customer_id": f"buyer-{c}-{seq % 5}", "text": rng.choice(TEXTS), "message_id": message_id}
            seq += 1
            rnd.sent[message_id] = message
            try:
                if await post(session, server.url, message):
                    rnd.acknowledged.add(message_id)
                    first_answer.set()
            except RuntimeError:
                rnd.refused += 1
            except aiohttp.ClientConnectorError:  # no connection: the message never left
                del rnd.sent[message_id]
                if server.proc is not None and server.proc.returncode is not None:
                    return
                await asyncio.sleep(0.05)
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError, json.JSONDecodeError):
                if server.proc is not None and server.proc.returncode is not None:
                    return  # the server is gone: this client's round is over
                await asyncio.sleep(0.01)  # a connection closed by a stopping server: try the next message

    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(client(c)) for c in range(clients)]
        await asyncio.wait_for(first_answer.wait(), 60)
        started = time.monotonic()
        await asyncio.sleep(rng.uniform(1.0, 5.0))
        rnd.under_load = time.monotonic() - started
        rnd.exit_status, rnd.stop_seconds = await server.stop(sig)
        dead.set()
        await asyncio.gather(*tasks)


async def retry_unanswered(server: Server, unanswered: list[dict]) -> int:
    """Send again, as they were, the messages that never got an answer; how many got one now."""
    answered = 0
    async with aiohttp.ClientSession() as session:
        for message in unanswered:
            answered += await post(session, server.url, message)
    return answered


async def main(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="reception-crash-"))
    db = workdir / "crash.db"
    config = workdir / "reception.toml"
    config.write_text(f'[webhook]\nsecret = "{SECRET}"\n\n[store]\npath = "{db.name}"\nsynchronous = '
                      f'"{args.synchronous}"\n', encoding="utf-8")
    server = Server(workdir, config)
    plan = [("SIGTERM", signal.SIGTERM)] * args.rounds + [("kill -9", signal.SIGKILL)] * args.rounds
    rng.shuffle(plan)
    rounds: list[Round] = []
    print(f"crash test: {args.clients} concurrent signed clients, {len(plan)} rounds, seed {args.seed}, "
          f"synchronous={args.synchronous}, db {db}", flush=True)
    began = time.monotonic()

    await server.start()
    async with aiohttp.ClientSession() as session:  # the secret is in force: an unsigned message is refused
        async with session.post(f"{server.url}/api/v1/webhook/messages",
                                json={"customer_id": "x", "text": "hi", "message_id": "unsigned"}) as response:
            assert response.status == 401, f"an unsigned message got {response.status}"
    for number, (how, sig) in enumerate(plan, 1):
        if number > 1:
            await server.start()
        rnd = Round(number, how)
        await load_round(server, rnd, args.clients, rng, sig)
        rounds.append(rnd)
        print(f"  round {number}: {how} after {rnd.under_load:.1f} s under load, {len(rnd.acknowledged):,} "
              f"acknowledged, exit status {rnd.exit_status}", flush=True)

    with sqlite3.connect(db) as conn:  # the server is stopped: read what the last stop left
        stored_before_retry = {row[0] for row in conn.execute(
            "SELECT message_id FROM messages WHERE sender = 'buyer' AND message_id IS NOT NULL")}
    unanswered = [message for rnd in rounds for message_id, message in rnd.sent.items()
                  if message_id not in rnd.acknowledged]
    await server.start()  # the restart: the retries of a client that never got an answer
    retried = await retry_unanswered(server, unanswered)
    status, _ = await server.stop(signal.SIGTERM)
    assert status == 0, f"the last stop exited with {status}"

    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute(
            "SELECT message_id FROM messages WHERE sender = 'buyer' AND message_id IS NOT NULL")}
        doubled = conn.execute("SELECT COUNT(*) FROM (SELECT message_id FROM messages WHERE sender = 'buyer' "
                               "AND message_id IS NOT NULL GROUP BY message_id HAVING COUNT(*) > 1)").fetchone()[0]

    print()
    print("round  stop      under load  exit  stop took    sent  acknowledged   found  lost  stored, not answered")
    print("-----  --------  ----------  ----  ---------  ------  ------------  ------  ----  ---------------------")
    lost_total = 0
    for rnd in rounds:
        found = rnd.acknowledged & stored_before_retry
        lost = len(rnd.acknowledged) - len(found)
        lost_total += lost
        in_flight = len((rnd.sent.keys() - rnd.acknowledged) & stored_before_retry)
        print(f"{rnd.number:>5}  {rnd.how:<8}  {rnd.under_load:>8.1f} s  {rnd.exit_status:>4}  "
              f"{rnd.stop_seconds:>7.2f} s  {len(rnd.sent):>6,}  {len(rnd.acknowledged):>12,}  {len(found):>6,}  "
              f"{lost:>4}  {in_flight:>21,}")
    acknowledged = sum(len(rnd.acknowledged) for rnd in rounds)
    print(f"total: {acknowledged:,} acknowledged, {acknowledged - lost_total:,} found after the stops, "
          f"{lost_total} lost")
    print(f"after the restart: {len(unanswered):,} unanswered messages sent again with the same message_id, "
          f"{retried:,} answered; {len({m['message_id'] for m in unanswered} - stored):,} still missing; "
          f"{doubled} message_id stored twice; all acknowledged still there: "
          f"{all(rnd.acknowledged <= stored for rnd in rounds)}")
    print(f"took {time.monotonic() - began:.0f} s")
    refused = sum(rnd.refused for rnd in rounds)
    if refused:
        print(f"{refused} messages got an answer other than 200")
    ok = lost_total == 0 and doubled == 0 and refused == 0 and retried == len(unanswered) and all(
        rnd.acknowledged <= stored for rnd in rounds)
    if ok and not args.keep:
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent signed clients (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each stop, SIGTERM and kill -9 (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="the random moments and messages (default 1)")
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL",
                        help="[store] synchronous of the server (default FULL)")
    parser.add_argument("--keep", action="store_true", help="keep the database and logs even when nothing is lost")
    sys.exit(asyncio.run(main(parser.parse_args())))
