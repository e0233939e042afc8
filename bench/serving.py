"""What bench/webhook_load.py starts and reads: `reception serve` instances (or the bare endpoint) behind nginx
when asked, a PostgreSQL server (a throwaway one or the one ``--store`` names) with its statement log, the
shop's configuration, and the CPU seconds each process used (from /proc). Everything started is stopped on
the way out of `Bench.serving`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import resource
import socket
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

import aiohttp

try:
    import asyncpg  # the PostgreSQL targets only: pip install -e '.[postgres]'
except ImportError:
    asyncpg = None

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN_TOKEN = "bench-admin-token"
AGENTS = [f"a{i}" for i in range(1, 5)]
MAXIMUM = 3
TICK = os.sysconf("SC_CLK_TCK")


# -- processes and what they use ----------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and all its descendants, alive or already reaped."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # exited meanwhile: its time is now in its parent's cutime and cstime
            stats[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / TICK)  # utime … cstime
    children: dict[int, list[int]] = {}
    for child, (parent, _) in stats.items():
        children.setdefault(parent, []).append(child)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += stats.get(current, (0, 0.0))[1]
        todo += children.get(current, [])
    return total


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy, all cores and processes (/proc/stat less idle and iowait)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / TICK


def free_port() -> int:
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


async def spawn(cmd: list[str], logs: Path) -> Child:
    out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=stdout, stderr=stderr)
    return Child(proc, out, err)


async def serve(config: Path | None, logs: Path) -> tuple[Child, str]:
    """A `reception serve` (the bare endpoint when `config` is None) and its URL once it listens."""
    cmd = ([sys.executable, "-m", "reception.cli", "serve", "--config", str(config), "--port", "0"] if config
           else [sys.executable, "bench/bare_server.py"])
    child = await spawn(cmd, logs)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.proc.returncode is None:
        found = re.search(r"http://\S+", child.out.read_text(errors="replace"))
        if found:
            return child, found.group(0)
        await asyncio.sleep(0.05)
    await child.stop()
    raise RuntimeError(f"{' '.join(cmd)} did not start listening: {child.err.read_text(errors='replace')[-2000:]}")


async def nginx_in_front(urls: list[str], logs: Path) -> tuple[Child, str]:
    """nginx with deploy/nginx.conf in front of `urls` (in place of its three upstream servers); its URL."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    servers = re.findall(r"^ *server 127\.0\.0\.1:808\d .*\n", conf, flags=re.M)
    if len(servers) != 3 or "listen 8080;" not in conf:
        raise RuntimeError("deploy/nginx.conf no longer has the three upstream servers and `listen 8080;` it had")
    conf = conf.replace("".join(servers),
                        "".join(servers[0].replace("127.0.0.1:8081", url.removeprefix("http://")) for url in urls))
    port = free_port()
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    # which instance answered, for the latency of each (the bench's copy only: deploy/nginx.conf does not say)
    conf = conf.replace("location / {", "location / {\n            add_header X-Upstream $upstream_addr always;")
    logs.with_suffix(".conf").write_text(conf, encoding="utf-8")
    child = await spawn(["nginx", "-p", str(logs.parent), "-c", str(logs.with_suffix(".conf")), "-g",
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
        self.server: Any = None  # reception.testing_pg.PgServer, when the bench started one
        self.admin = ""  # where the bench creates databases and reads statistics
        self.postmaster: int | None = None  # when the server runs on this machine
        self.statements = False  # pg_stat_statements is there
        self.template = ""
        self.created: list[str] = []
        self._names = iter(range(1, 1 << 30))

    async def start(self) -> None:
        from reception.config.sections import StoreSettings
        from reception.store import make_store

        if self.given is None:
            from reception.testing_pg import PgServer

            self.server = PgServer().start()
            self.admin = self.server.url()
            await self.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'",
                               "ALTER SYSTEM SET log_line_prefix = '%m [%p] db=%d '")
            self.server.restart()
            await self.execute("CREATE EXTENSION pg_stat_statements")
        else:
            self.admin = self.given
        with contextlib.suppress(asyncpg.PostgresError):  # not installed or not loaded: no statement counts
            await self.fetch("SELECT count(*) FROM pg_stat_statements")
            self.statements = True
        backend = (await self.fetch("SELECT pg_backend_pid()"))[0][0]
        with contextlib.suppress(OSError, IndexError, ValueError):  # a server elsewhere: its CPU is not measured
            parent = int(Path(f"/proc/{backend}/stat").read_text().rpartition(")")[2].split()[1])
            if Path(f"/proc/{parent}/comm").read_text().strip() in ("postgres", "postmaster"):
                self.postmaster = parent
        self.template = await self._create(f"bench_{os.getpid()}_template", None)
        store = make_store(StoreSettings(url=self.url(self.template)))
        await store.open()  # migrates
        await store.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()  # the databases go with it
            return
        for name in reversed(self.created):
            with contextlib.suppress(Exception):
                await self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url(self, database: str) -> str:
        return urlsplit(self.admin)._replace(path=f"/{database}").geturl()

    async def execute(self, *statements: str) -> None:
        conn = await asyncpg.connect(self.admin)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def fetch(self, sql: str, *args: Any, database: str | None = None) -> list[Any]:
        conn = await asyncpg.connect(self.url(database) if database else self.admin)
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
        """The database's transactions so far (committed or not), and each statement's calls."""
        xacts = await self.fetch("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
                                 database)
        calls = await self.fetch("SELECT query, sum(calls) FROM pg_stat_statements WHERE dbid ="
                                 " (SELECT oid FROM pg_database WHERE datname = $1) GROUP BY query",
                                 database) if self.statements else []
        return {"xacts": xacts[0][0], "calls": {query: float(n) for query, n in calls}}

    def log_size(self) -> int:
        return (self.server.dir / "log").stat().st_size

    def log_since(self, offset: int) -> list[str]:
        with (self.server.dir / "log").open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace").splitlines()


# -- targets ------------------------------------------------------------------------------------------------

@dataclass
class Target:
    """A running target: the URL to load, and what to measure."""

    url: str = ""
    direct: list[str] = field(default_factory=list)  # each instance's own URL
    servers: list[int] = field(default_factory=list)  # pids of the reception instances (or the bare endpoint)
    nginx: int | None = None
    sqlite: Path | None = None  # the SQLite file,
    database: str = ""  # or the PostgreSQL database's name

    async def leases(self) -> list[bool]:
        """Which instances hold the lease (the background work), as their /healthz says."""
        holds = []
        async with aiohttp.ClientSession() as session:
            for url in self.direct:
                async with session.get(f"{url}/healthz") as response:
                    holds.append((await response.json()).get("background", False))
        return holds

    def cpu(self, pg: Postgres | None) -> dict[str, float]:
        """CPU seconds so far of each part (the PostgreSQL server's when `pg` is given, else NaN), and the time."""
        return {"server": sum(cpu_seconds(pid) for pid in self.servers),
                "postgres": cpu_seconds(pg.postmaster) if pg and pg.postmaster else float("nan"),
                "nginx": cpu_seconds(self.nginx) if self.nginx else 0.0,
                "load": own_cpu_seconds(),
                "machine": machine_cpu_seconds(),
                "wall": time.perf_counter()}


class Bench:
    """The run's settings, its temporary directory and PostgreSQL server, and the instances' logs."""

    def __init__(self, args: argparse.Namespace, tmp: Path, pg: Postgres | None) -> None:
        self.args, self.tmp, self.pg = args, tmp, pg
        self.logs: list[Path] = []  # every instance's stderr, looked through at the end

    def config(self, name: str, store: str, agents: bool) -> Path:
        if store.startswith("sqlite-"):
            section = f'path = "{self.tmp / name}.db"\nsynchronous = "{store.removeprefix("sqlite-")}"'
        else:
            section = f'url = "{store}"'
        text = (f'faq = ["{ROOT / "faq"}"]\n\n[admin]\ntoken = "{ADMIN_TOKEN}"\n\n[store]\n{section}\n\n'
                '[webchat]\nsecret = "the same widget secret on every instance"\n\n'
                f'[bot]\nsemantic = "{self.args.semantic}"\n')
        if agents:  # as tests/test_scaleout.py: open all day, four agents of three buyers each
            text += '\n[hours]\nopen = ["00:00-24:00"]\n\n' + "".join(
                f'[[agents]]\nid = "shop:{a}"\ntoken = "{a}-bench-token"\ngroups = ["pre_sales"]\n'
                f"max_concurrent = {MAXIMUM}\n\n" for a in AGENTS)
        path = self.tmp / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    @contextlib.asynccontextmanager
    async def serving(self, name: str, store: str | None, instances: int = 1, balanced: bool = False,
                      agents: bool = False) -> AsyncIterator[Target]:
        """Start a target (`store`: None for the bare endpoint, "sqlite-FULL", "sqlite-NORMAL" or "postgresql"),
        `instances` of it, behind nginx if `balanced`; everything is stopped on the way out."""
        async with contextlib.AsyncExitStack() as stack:
            target, config = Target(), None
            if store == "postgresql":
                assert self.pg is not None
                target.database = await self.pg.database()
                config = self.config(name, self.pg.url(target.database), agents)
            elif store is not None:
                target.sqlite = self.tmp / f"{name}.db"
                config = self.config(name, store, agents)
            urls = []
            for i in range(instances):
                child, url = await serve(config, self.tmp / f"{name}-{i}")
                stack.push_async_callback(child.stop)
                self.logs.append(child.err)
                target.servers.append(child.proc.pid)
                urls.append(url)
            target.url, target.direct = urls[0], urls
            if balanced:
                nginx, target.url = await nginx_in_front(urls, self.tmp / f"{name}-nginx")
                stack.push_async_callback(nginx.stop)
                target.nginx = nginx.proc.pid
            yield target

    async def stored(self, target: Target, sql: str, *args: Any) -> list[Any]:
        """Rows of `sql` (``?`` placeholders) from the target's database, SQLite or PostgreSQL."""
        if target.sqlite is not None:
            with sqlite3.connect(target.sqlite) as conn:
                return conn.execute(sql, args).fetchall()
        assert self.pg is not None
        parts = sql.split("?")
        numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
        return await self.pg.fetch(numbered, *args, database=target.database)
