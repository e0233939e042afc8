"""Webhook throughput: `reception serve` on SQLite and on PostgreSQL, one instance and several behind nginx.

Each target runs in its own processes; one load process drives it over
loopback with many concurrent buyers, each message a fresh POST, and reports
messages per second and p50/p99 latency beside a bare aiohttp JSON endpoint
in the same run. Every answered message is looked for in the database
afterwards (SQLite through sqlite3, PostgreSQL through asyncpg).

Without ``--store`` the targets are the bare endpoint and one instance on
SQLite with ``synchronous`` FULL and NORMAL. With ``--store postgresql``
(a throwaway server from `reception.testing_pg`, with pg_stat_statements) or
``--store postgresql://USER@HOST/DB`` (an existing server; the user must be
allowed to CREATE DATABASE, and the bench drops what it created), it adds:

- one instance on PostgreSQL, direct, and 1 to ``--instances`` instances
  behind nginx (deploy/nginx.conf with the bench's ports), each target on a
  fresh copy of one migrated database;
- what a message costs: CPU seconds of the instances, of the PostgreSQL
  server (its postmaster and every child, from /proc) and of nginx, and
  transactions (pg_stat_database) and statements (pg_stat_statements) per
  message;
- 1,000 simultaneous handovers (4 agents online, 3 buyers each): on one
  instance on SQLite, one on PostgreSQL, and three behind nginx; the time
  from the first send to the last answer, and the database must then hold
  exactly 12 assigned and 988 queued conversations;
- the routing decisions of one instance on PostgreSQL, from the server's
  statement log (throwaway server only) on a separate run: round trips and
  milliseconds for which each decision holds the shop's routing lock.

``--runs N`` repeats everything N times (the machine is noisy) and ends
with each figure's spread. Everything the bench starts (instances, nginx,
PostgreSQL) is stopped when it ends, fails or is interrupted; the
instances' output is kept (and its directory printed) only when one of
them logged an error.

    python bench/webhook_load.py [--requests 4000] [--concurrency 64] [--buyers 800]
    python bench/webhook_load.py --store postgresql [--runs 3] [--instances 3] [--handovers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator
from datetime import datetime
from urllib.parse import urlsplit

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from reception.faq.loader import load_dir  # noqa: E402

PREFIXES = ["", "亲，", "你好，", "hi, ", "请问", "在吗 ", "hello "]
SUFFIXES = ["", "？", "?", " 谢谢", " thanks", "呢", "啊", "!!"]
ADMIN_TOKEN = "bench-admin-token"
AGENTS = [f"a{i}" for i in range(1, 5)]
MAXIMUM = 3
TICK = os.sysconf("SC_CLK_TCK")
# the server's statement log: "2025-01-01 10:00:00.123 UTC [4242] db=shop LOG:  duration: 0.051 ms  execute x: SQL"
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \S+ \[(\d+)\] db=(\S*) LOG:  duration: ([\d.]+) ms  "
                      r"(statement|parse|bind|execute)[^:]*: (.*)$")


def _questions(rng: random.Random, n: int) -> list[str]:
    """Buyer messages made from the bundled FAQ's phrasings, decorated so that few repeat exactly."""
    phrasings = [q for entry in load_dir(ROOT / "faq") for q in entry.questions] + ["转人工", "asdf qwer"]
    return [rng.choice(PREFIXES) + rng.choice(phrasings) + rng.choice(SUFFIXES) for _ in range(n)]


# -- processes ----------------------------------------------------------------------------------------------

def _cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and all its descendants, alive or already reaped."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # exited meanwhile: its time is now in its parent's cutime/cstime
            stats[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / TICK)
    children: dict[int, list[int]] = {}
    for child, (parent, _) in stats.items():
        children.setdefault(parent, []).append(child)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += stats.get(current, (0, 0.0))[1]
        todo += children.get(current, [])
    return total


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, every process: /proc/stat less idle and iowait)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / TICK


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Child:
    """A process the bench started, its stdout and stderr in files."""

    proc: asyncio.subprocess.Process
    out: Path
    err: Path

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def _spawn(cmd: list[str], logs: Path, env: dict[str, str] | None = None) -> Child:
    out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, env=env, stdout=stdout, stderr=stderr,
                                                    stdin=asyncio.subprocess.DEVNULL)
    return Child(proc, out, err)


async def _serve(config: Path, logs: Path) -> tuple[Child, str]:
    """A `reception serve` (or the bare endpoint when `config` is None) and its URL once it listens."""
    cmd = ([sys.executable, "-m", "reception.cli", "serve", "--config", str(config), "--port", "0"] if config
           else [sys.executable, "bench/bare_server.py"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}
    child = await _spawn(cmd, logs, env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"http://\S+", child.out.read_text(errors="replace"))
        if found:
            return child, found.group(0)
        if child.proc.returncode is not None:
            break
        await asyncio.sleep(0.05)
    await child.stop()
    raise RuntimeError(f"{' '.join(cmd)} did not start listening: {child.err.read_text(errors='replace')[-2000:]}")


async def _nginx(urls: list[str], logs: Path) -> tuple[Child, str]:
    """nginx with deploy/nginx.conf in front of `urls` (its three upstream servers replaced by these)."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    servers = re.findall(r"^ *server 127\.0\.0\.1:808\d .*\n", conf, flags=re.M)
    ours = "".join(servers[0].replace("127.0.0.1:8081", url.removeprefix("http://")) for url in urls)
    conf = conf.replace("".join(servers), ours)
    port = _free_port()
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    prefix = logs.parent
    path = logs.with_suffix(".conf")
    path.write_text(conf, encoding="utf-8")
    child = await _spawn(["nginx", "-p", str(prefix), "-c", str(path), "-g",
                          f"daemon off; pid {logs.with_suffix('.pid')}; error_log {logs.with_suffix('.log')} warn;"],
                         logs)
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return child, url
            await asyncio.sleep(0.05)
    await child.stop()
    raise RuntimeError(f"nginx did not come up: {logs.with_suffix('.log').read_text(errors='replace')[-2000:]}")


# -- PostgreSQL ---------------------------------------------------------------------------------------------

class Postgres:
    """The server the bench uses: a throwaway one (`url` None) or the one `--store` names."""

    def __init__(self, url: str | None) -> None:
        self.given = url
        self.server: Any = None  # reception.testing_pg.PgServer when the bench started one
        self.admin = ""  # a URL for CREATE DATABASE and the statistics
        self.postmaster: int | None = None  # when the server runs on this machine
        self.statements = False  # pg_stat_statements is there
        self.created: list[str] = []
        self.template = ""
        self._names = iter(range(1, 1 << 30))

    async def start(self) -> None:
        import asyncpg

        from reception.config.sections import StoreSettings
        from reception.store import make_store

        if self.given is None:
            from reception.testing_pg import PgServer

            self.server = PgServer().start()
            self.admin = self.server.url()
            await self.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'",
                               "ALTER SYSTEM SET log_line_prefix = '%m [%p] db=%d '")
            self.server.restart()
        else:
            self.admin = self.given
        with contextlib.suppress(asyncpg.PostgresError):
            await self.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await self.fetch("SELECT count(*) FROM pg_stat_statements")
            self.statements = True
        backend = await self.fetch("SELECT pg_backend_pid()")
        with contextlib.suppress(OSError):  # not on this machine (or not in this process namespace)
            parent = int(Path(f"/proc/{backend[0][0]}/stat").read_text().rpartition(")")[2].split()[1])
            if Path(f"/proc/{parent}/comm").read_text().strip() in ("postgres", "postmaster"):
                self.postmaster = parent
        self.template = await self._create(f"bench_{os.getpid()}_template", None)
        store = make_store(StoreSettings(url=self.url(self.template)))
        await store.open()
        await store.close()

    def url(self, database: str) -> str:
        return urlsplit(self.admin)._replace(path=f"/{database}").geturl()

    async def execute(self, *statements: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def fetch(self, sql: str, *args: Any, url: str | None = None) -> list[Any]:
        import asyncpg

        conn = await asyncpg.connect(url or self.admin)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def _create(self, name: str, template: str | None) -> str:
        await self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return name

    async def database(self) -> str:
        """A fresh copy of the migrated template; its name."""
        return await self._create(f"bench_{os.getpid()}_{next(self._names)}", self.template)

    async def counters(self, database: str) -> dict[str, Any]:
        """Committed and rolled-back transactions so far, and each statement's calls (pg_stat_statements)."""
        xacts = await self.fetch("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
                                 database)
        calls = {}
        if self.statements:
            calls = {row[0]: row[1] for row in await self.fetch(
                "SELECT query, sum(calls) FROM pg_stat_statements WHERE dbid ="
                " (SELECT oid FROM pg_database WHERE datname = $1) GROUP BY query", database)}
        return {"xacts": xacts[0][0], "calls": {query: float(n) for query, n in calls.items()}}

    def log_size(self) -> int:
        return (self.server.dir / "log").stat().st_size

    def log_since(self, offset: int) -> list[str]:
        with (self.server.dir / "log").open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace").splitlines()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()  # the databases go with it
            return
        for name in reversed(self.created):
            with contextlib.suppress(Exception):
                await self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- targets ------------------------------------------------------------------------------------------------

@dataclass
class Target:
    """A running target: the URL to load, and what to measure."""

    url: str
    instances: list[int] = field(default_factory=list)  # pids of the reception processes
    nginx: int | None = None
    sqlite: Path | None = None  # the SQLite file
    database: str = ""  # or the PostgreSQL database's name

    def cpu(self, pg: Postgres | None) -> dict[str, float]:
        """CPU seconds so far of each part (`pg` given: the PostgreSQL server's too)."""
        return {"reception": sum(_cpu_seconds(pid) for pid in self.instances),
                "postgres": _cpu_seconds(pg.postmaster) if pg and pg.postmaster else float("nan"),
                "nginx": _cpu_seconds(self.nginx) if self.nginx else 0.0,
                "load": _own_cpu_seconds(),
                "machine": _machine_cpu_seconds()}


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path, pg: Postgres | None) -> None:
        self.args, self.tmp, self.pg = args, tmp, pg
        self.logs: list[Path] = []  # every instance's stderr, looked through at the end

    def config(self, name: str, store: str, agents: bool) -> Path:
        if store.startswith("sqlite-"):
            section = f'path = "{self.tmp / name}.db"\nsynchronous = "{store.removeprefix("sqlite-")}"'
        else:
            section = f'url = "{store}"'
        text = (f'faq = ["{ROOT / "faq"}"]\n\n[admin]\ntoken = "{ADMIN_TOKEN}"\n\n[store]\n{section}\n\n'
                '[webchat]\nsecret = "the same widget secret on every instance"\n')
        if agents:
            text += '\n[hours]\nopen = ["00:00-24:00"]\n\n' + "".join(
                f'[[agents]]\nid = "shop:{a}"\ntoken = "{a}-bench-token"\ngroups = ["pre_sales"]\n'
                f"max_concurrent = {MAXIMUM}\n\n" for a in AGENTS)
        path = self.tmp / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    @contextlib.asynccontextmanager
    async def serving(self, name: str, store: str | None, instances: int = 1, balanced: bool = False,
                      agents: bool = False) -> AsyncIterator[Target]:
        """Start the target (`store` None: the bare endpoint; "sqlite-FULL", "postgresql"), stop it after."""
        async with contextlib.AsyncExitStack() as stack:
            target = Target("")
            if store is None:
                config = None
            elif store == "postgresql":
                assert self.pg is not None
                target.database = await self.pg.database()
                config = self.config(name, self.pg.url(target.database), agents)
            else:
                target.sqlite = self.tmp / f"{name}.db"
                config = self.config(name, store, agents)
            children, urls = [], []
            for i in range(instances):
                child, url = await _serve(config, self.tmp / f"{name}-{i}")
                stack.push_async_callback(child.stop)
                self.logs.append(child.err)
                children.append(child)
                urls.append(url)
            target.url = urls[0]
            target.instances = [c.proc.pid for c in children] if config else []
            if balanced:
                nginx, target.url = await _nginx(urls, self.tmp / f"{name}-nginx")
                stack.push_async_callback(nginx.stop)
                target.nginx = nginx.proc.pid
            yield target

    async def stored(self, target: Target, sql: str, *args: Any) -> list[Any]:
        """Rows of `sql` (``?`` placeholders) on the target's database, SQLite or PostgreSQL."""
        if target.sqlite is not None:
            with sqlite3.connect(target.sqlite) as conn:
                return conn.execute(sql, args).fetchall()
        assert self.pg is not None
        parts = sql.split("?")
        numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
        return await self.pg.fetch(numbered, *args, url=self.pg.url(target.database))


# -- measurements -------------------------------------------------------------------------------------------

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
                try:
                    async with session.post(f"{url}/api/v1/webhook/messages", json=body) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rate": requests / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000, "errors": errors, "n": requests}


async def load(bench: Bench, name: str, tag: str, **serving: Any) -> dict[str, Any]:
    """Warm the target up, then time `--requests` messages; CPU and database work over the timed part."""
    args, pg = bench.args, bench.pg
    async with bench.serving(name, **serving) as target:
        await _drive(target.url, min(300, args.requests), args.concurrency, args.buyers, f"warm-{tag}")
        postgres = pg is not None and serving.get("store") == "postgresql"
        if postgres:
            await asyncio.sleep(1.5)  # a backend reports its statistics at most once a second
            counters = await pg.counters(target.database)
        cpu = target.cpu(pg if postgres else None)
        result = await _drive(target.url, args.requests, args.concurrency, args.buyers, tag)
        per = {k: (v - cpu[k]) / args.requests for k, v in target.cpu(pg if postgres else None).items()}
        machine = per.pop("machine")
        per["other"] = machine - sum(v for v in per.values() if v == v)  # NaN: no PostgreSQL here
        result["cpu"], result["busy"] = per, machine * result["rate"] / (os.cpu_count() or 1)
        if postgres:
            await asyncio.sleep(1.5)
            after = await pg.counters(target.database)
            result["xacts"] = (after["xacts"] - counters["xacts"]) / args.requests
            calls = {q: (n - counters["calls"].get(q, 0)) / args.requests for q, n in after["calls"].items()}
            result["calls"] = {q: n for q, n in calls.items() if n > 0}
        if serving.get("store"):
            rows = await bench.stored(target, "SELECT COUNT(*) FROM messages WHERE sender='buyer' AND message_id LIKE ?",
                                      f"{tag}-%")
            result["stored"] = rows[0][0]
    return result


async def handovers(bench: Bench, name: str, **serving: Any) -> dict[str, Any]:
    """`--handovers` fresh buyers ask for a person at once; 4 agents of 3 online. Until the last answer."""
    n = bench.args.handovers
    async with bench.serving(name, agents=True, **serving) as target:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            for agent in AGENTS:
                async with session.post(f"{target.url}/api/v1/agents/shop:{agent}/status", json={"status": "online"},
                                        headers={"Authorization": f"Bearer {agent}-bench-token"}) as response:
                    assert response.status == 200, await response.text()

            async def buyer(i: int) -> tuple[int, str, float]:
                body = {"customer_id": f"h{i:05d}", "text": "转人工", "message_id": f"h{i:05d}"}
                try:
                    async with session.post(f"{target.url}/api/v1/webhook/messages", json=body) as response:
                        answer = await response.json(content_type=None)
                        status = response.status
                except (aiohttp.ClientError, ValueError):
                    status, answer = 0, {}
                return status, (answer or {}).get("status", "?"), time.perf_counter()

            started = time.perf_counter()
            answers = await asyncio.gather(*(buyer(i) for i in range(n)))
        times = sorted(done - started for _, _, done in answers)
        places = Counter(dict(await bench.stored(
            target, "SELECT status, COUNT(*) FROM conversations GROUP BY status")))
    return {"seconds": times[-1], "first": times[0] * 1000, "p50": statistics.median(times) * 1000,
            "errors": sum(s != 200 for s, _, _ in answers),
            "answered": Counter(status for _, status, _ in answers), "places": places}


async def decisions(bench: Bench, instances: int, concurrency: int, requests: int, tag: str) -> dict[str, float]:
    """Instances on PostgreSQL with the server's statement log on: each routing decision's round trips, the
    time it holds the shop's routing lock (from the lock granted to its COMMIT done, on one connection), how
    much of that the server itself spent in the statements and in COMMIT, and the wait for the lock."""
    pg = bench.pg
    assert pg is not None and pg.server is not None
    await pg.execute("ALTER SYSTEM SET log_min_duration_statement = 0", "SELECT pg_reload_conf()")
    try:
        async with bench.serving(f"log-{tag}", store="postgresql", instances=instances,
                                 balanced=instances > 1) as target:
            await _drive(target.url, 200, concurrency, bench.args.buyers, f"warm-{tag}")
            offset = pg.log_size()
            result = await _drive(target.url, requests, concurrency, bench.args.buyers, tag)
            await asyncio.sleep(0.5)
            lines = pg.log_since(offset)
    finally:
        await pg.execute("ALTER SYSTEM RESET log_min_duration_statement", "SELECT pg_reload_conf()")
    holding: dict[str, list[float]] = {}  # pid -> [lock granted at, round trips, server ms] since
    held, trips, server, commit, wait, all_trips = [], [], [], [], [], 0
    for line in lines:
        found = LOG_LINE.match(line)
        if not found or found.group(3) != target.database:
            continue
        stamp, pid, _, ms, kind, sql = found.groups()
        at, ms = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp(), float(ms)
        trip = kind != "bind"  # bind and execute go in one round trip; parse (not prepared yet) in its own
        all_trips += trip
        if "pg_advisory_xact_lock" in sql and kind == "execute":
            holding[pid] = [at, 0, 0.0]
            wait.append(ms)
        elif pid in holding:
            state = holding[pid]
            state[1] += trip
            state[2] += ms
            if sql.startswith(("COMMIT", "ROLLBACK")) and "SAVEPOINT" not in sql:
                held.append((at - state[0]) * 1000)
                trips.append(state[1])
                server.append(state[2])
                commit.append(ms)
                del holding[pid]
    held.sort()
    mean = statistics.mean(held)
    return {"rate": result["rate"], "decisions": len(held) / requests, "all_trips": all_trips / requests,
            "trips": statistics.mean(trips), "wait": statistics.mean(wait), "mean": mean,
            "p50": statistics.median(held), "p99": held[int(len(held) * 0.99) - 1],
            "server": statistics.mean(server), "commit": statistics.mean(commit), "ceiling": 1000 / mean}


# -- the run ------------------------------------------------------------------------------------------------

async def one_run(bench: Bench, run: int) -> dict[str, dict[str, Any]]:
    args, pg = bench.args, bench.pg
    rows: dict[str, dict[str, Any]] = {}
    rows["bare aiohttp JSON endpoint"] = await load(bench, f"r{run}-bare", f"r{run}bare", store=None)
    rows["reception, SQLite FULL"] = await load(bench, f"r{run}-full", f"r{run}full", store="sqlite-FULL")
    if pg is None:
        rows["reception, SQLite NORMAL"] = await load(bench, f"r{run}-normal", f"r{run}normal", store="sqlite-NORMAL")
    else:
        rows["reception, PostgreSQL, direct"] = await load(bench, f"r{run}-pg", f"r{run}pg", store="postgresql")
        for n in range(1, args.instances + 1):
            rows[f"nginx + {n} reception, PostgreSQL"] = await load(
                bench, f"r{run}-lb{n}", f"r{run}lb{n}", store="postgresql", instances=n, balanced=True)
    bare, sqlite = rows["bare aiohttp JSON endpoint"]["rate"], rows["reception, SQLite FULL"]["rate"]
    print(f"\nrun {run}: {args.requests} messages, {args.concurrency} concurrent connections, {args.buyers} buyers,"
          f" {os.cpu_count()} cores\n")
    print(f"{'target':36} {'msgs/s':>7} {'vs SQLite':>9} {'vs bare':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
          f" {'stored':>6}")
    for name, r in rows.items():
        print(f"{name:36} {r['rate']:7.0f} {r['rate'] / sqlite:9.2f} {r['rate'] / bare:7.2f} {r['p50']:7.1f}"
              f" {r['p99']:7.1f} {int(r['errors']):6d} {str(r.get('stored', '-')):>6}")
    print(f"\nCPU ms per message (load: this process; other: the rest of the machine), how busy the cores were,"
          f" and database work per message\n\n{'target':36} {'reception':>9} {'postgres':>8} {'nginx':>6}"
          f" {'load':>6} {'other':>6} {'busy':>5} {'xacts':>6} {'statements':>10}")
    for name, r in rows.items():
        cpu = {k: "-" if v != v else f"{v * 1000:.2f}" for k, v in r["cpu"].items()}
        xacts = f"{r['xacts']:.1f}" if "xacts" in r else "-"
        statements = f"{sum(r['calls'].values()):.1f}" if r.get("calls") else "-"
        print(f"{name:36} {cpu['reception']:>9} {cpu['postgres']:>8} {cpu['nginx']:>6} {cpu['load']:>6}"
              f" {cpu['other']:>6} {r['busy']:5.0%} {xacts:>6} {statements:>10}")
    if pg is None:
        return rows
    calls = rows["reception, PostgreSQL, direct"].get("calls")
    if calls:
        print("\nstatements per message, one instance on PostgreSQL direct (pg_stat_statements):")
        for query, n in sorted(calls.items(), key=lambda item: -item[1])[:16]:
            print(f"  {n:5.2f}  {' '.join(query.split())[:100]}")

    print(f"\n{args.handovers} simultaneous handovers, {len(AGENTS)} agents online with max_concurrent {MAXIMUM}\n")
    print(f"{'target':36} {'seconds':>7} {'first ms':>8} {'p50 ms':>7} {'errors':>6} {'answers':>24}"
          f" {'in the database':>24}")
    for name, serving in (("one reception, SQLite FULL", {"store": "sqlite-FULL"}),
                          ("one reception, PostgreSQL, direct", {"store": "postgresql"}),
                          (f"nginx + {args.instances} reception, PostgreSQL",
                           {"store": "postgresql", "instances": args.instances, "balanced": True})):
        r = rows[f"handovers: {name}"] = await handovers(bench, f"r{run}-h{len(rows)}", **serving)
        answered = " ".join(f"{k} {v}" for k, v in sorted(r["answered"].items()))
        places = " ".join(f"{k} {v}" for k, v in sorted(r["places"].items()))
        print(f"{name:36} {r['seconds']:7.2f} {r['first']:8.0f} {r['p50']:7.0f} {r['errors']:6d} {answered:>24}"
              f" {places:>24}")

    if pg.server is not None:
        print("\nrouting decisions on PostgreSQL, from the server's statement log (a separate run with the log on)\n")
        print(f"{'instances':>9} {'concurrency':>11} {'msgs/s':>6} {'trips/msg':>9} {'under lock':>10}"
              f" {'lock wait':>9} {'held: mean':>10} {'p50':>4} {'p99':>4} {'in server':>9} {'COMMIT':>6}"
              f" {'→ decisions/s':>13}")
        for instances, concurrency, requests in ((1, 1, 300), (1, args.concurrency, 1000),
                                                 (args.instances, args.concurrency, 1000)):
            r = rows[f"decisions: {instances} instance(s) at {concurrency}"] = await decisions(
                bench, instances, concurrency, requests, f"r{run}log{instances}x{concurrency}")
            print(f"{instances:9d} {concurrency:11d} {r['rate']:6.0f} {r['all_trips']:9.1f} {r['trips']:10.1f}"
                  f" {r['wait']:9.2f} {r['mean']:10.2f} {r['p50']:4.0f} {r['p99']:4.0f} {r['server']:9.2f}"
                  f" {r['commit']:6.2f} {r['ceiling']:13.0f}")
        print("(per decision, ms: lock wait is the server's time in pg_advisory_xact_lock; held runs from the lock"
              " granted to COMMIT done,\n of which the server spent 'in server' on the statements, 'COMMIT' of it"
              " in the COMMIT; the rest is the network and the instance)")
    return rows


def spread(runs: list[dict[str, dict[str, Any]]]) -> None:
    """Each figure's lowest and highest value over the runs."""
    def span(values: list[float], digits: int = 0) -> str:
        return f"{min(values):.{digits}f}–{max(values):.{digits}f}"

    print(f"\nspread over {len(runs)} runs (lowest–highest)\n")
    sqlite = [run["reception, SQLite FULL"]["rate"] for run in runs]
    bare = [run["bare aiohttp JSON endpoint"]["rate"] for run in runs]
    for name in runs[0]:
        rows = [run[name] for run in runs]
        if "rate" in rows[0] and "decisions" not in rows[0]:
            rates = [r["rate"] for r in rows]
            print(f"{name:36} {span(rates):>11} msgs/s, vs SQLite {span([a / b for a, b in zip(rates, sqlite)], 2)},"
                  f" vs bare {span([a / b for a, b in zip(rates, bare)], 2)}, p99 {span([r['p99'] for r in rows])} ms,"
                  f" CPU ms/msg reception {span([r['cpu']['reception'] * 1000 for r in rows], 2)}"
                  + (f", postgres {span([r['cpu']['postgres'] * 1000 for r in rows], 2)}" if "xacts" in rows[0] else ""))
        elif "seconds" in rows[0]:
            print(f"{name:48} {span([r['seconds'] for r in rows], 2)} s")
        else:
            print(f"{name:36} lock held {span([r['mean'] for r in rows], 2)} ms per decision"
                  f" ({span([r['trips'] for r in rows], 1)} round trips, {span([r['server'] for r in rows], 2)} ms"
                  f" in the server), lock wait {span([r['wait'] for r in rows], 2)} ms"
                  f" → {span([r['ceiling'] for r in rows])} decisions/s")


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--buyers", type=int, default=800)
    parser.add_argument("--store", help="postgresql (a throwaway server) or postgresql://USER@HOST/DB")
    parser.add_argument("--instances", type=int, default=3, help="behind nginx: 1 to this many (default 3)")
    parser.add_argument("--handovers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    if args.store and not args.store.startswith(("postgresql", "postgres://")):
        parser.error("--store takes postgresql or a postgresql:// URL")
    if args.store and shutil.which("nginx") is None:
        parser.error("nginx is not installed (make system-packages installs Debian's)")
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    tmp = Path(tempfile.mkdtemp(prefix="reception-bench-"))
    pg = Postgres(None if args.store == "postgresql" else args.store) if args.store else None
    bench = Bench(args, tmp, pg)
    try:
        if pg is not None:
            await pg.start()
        runs = [await one_run(bench, run) for run in range(1, args.runs + 1)]
        if args.runs > 1:
            spread(runs)
    finally:
        if pg is not None:
            await pg.stop()
        troubled = [log for log in bench.logs if re.search(r"Traceback|ERROR|CRITICAL", log.read_text(errors="replace"))]
        if troubled:
            print(f"\ninstances logged errors: see {', '.join(map(str, troubled))}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
