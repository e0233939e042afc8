"""A throwaway PostgreSQL server for tests: the suite runs every store test on it as well as on SQLite.

`PgServer.start()` finds ``initdb`` and ``pg_ctl`` (Debian's
``/usr/lib/postgresql/*/bin``, else ``PATH``), makes a cluster in a new
temporary directory and starts it on a free port of 127.0.0.1, its socket in
that directory; `stop()` stops it and removes the directory (also at exit,
should the caller never get there). PostgreSQL refuses to run as root, so as
root the cluster belongs to the unprivileged ``postgres`` user. The server
is started without faketime's variables (``LD_PRELOAD``, ``FAKETIME`` …):
the suite shifts its own clock, never the database's. Anything that keeps
it from starting raises `PgUnavailable` with the reason.

`create_database(name, template)` copies a database; the suite migrates one
template once and gives each test a fresh copy of it (`CREATE DATABASE …
TEMPLATE`), which is much faster than migrating an empty one.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg

USER = "reception"  # the cluster's superuser; local trust authentication, so any password is taken
_FAKETIME = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC", "DONT_FAKE_MONOTONIC", "FAKETIME_NO_CACHE",
             "FAKETIME_TIMESTAMP_FILE", "FAKETIME_START_AFTER_SECONDS", "FAKETIME_STOP_AFTER_SECONDS")


class PgUnavailable(RuntimeError):
    """No PostgreSQL server could be started here; the message says why."""


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise PgUnavailable("PostgreSQL is not installed (no initdb; `make system-packages` installs Debian's)")
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    """One PostgreSQL cluster in a temporary directory, for as long as the tests run."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.dir: Path | None = None
        self.port = 0
        self._as_user: list[str] = []
        self._env = {k: v for k, v in os.environ.items() if k not in _FAKETIME}
        self._env.update(LC_ALL="C", TZ="UTC")

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        try:
            subprocess.run([*self._as_user, *args], env=self._env, check=True, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        except (OSError, subprocess.SubprocessError) as exc:
            output = getattr(exc, "output", b"") or b""
            raise PgUnavailable(f"{Path(args[0]).name} failed: {exc} {output.decode(errors='replace')[-600:]}"
                                ) from None

    def start(self) -> "PgServer":
        """initdb and start; raises `PgUnavailable`."""
        self.dir = Path(tempfile.mkdtemp(prefix="reception-pg-"))
        if os.geteuid() == 0:
            try:
                shutil.chown(self.dir, "postgres", "postgres")
            except (LookupError, OSError) as exc:
                self._remove()
                raise PgUnavailable(f"running as root and no `postgres` user to run the server as ({exc})") from None
            self._as_user = ["runuser", "-u", "postgres", "--"]
        atexit.register(self.stop)
        data = self.dir / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")
        self.port = _free_port()
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300"
                   " -c log_min_messages=warning")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"), "-w", "-t", "60",
                  "-o", options, "start")
        return self

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, the server is back when this returns."""
        assert self.dir is not None
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w",
                  "-t", "60", "-m", "fast", "restart")

    def stop(self) -> None:
        """Stop the server and remove its directory; safe to call twice."""
        if self.dir is None:
            return
        if (self.dir / "data" / "postmaster.pid").exists():
            try:
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-w", "-m", "immediate", "stop")
            except PgUnavailable:
                pass  # already gone; the directory goes anyway
        self._remove()
        atexit.unregister(self.stop)

    def _remove(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    async def execute(self, *statements: str) -> None:
        """Run statements on the server's maintenance database, as the superuser."""
        conn = await asyncpg.connect(self.url())
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of `template` when given); its URL."""
        copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await self.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    async def drop_database(self, name: str) -> None:
        await self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
