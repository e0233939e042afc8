"""The commands that fill a database of their own: ``reception simulate`` (a rehearsed day, kept with ``--db``)
and ``reception store copy`` (a whole shop into an empty database)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from .cli_args import CliError, database_of
from .config import load_settings
from .config.sections import StoreSettings, hide_password
from .store import make_store


def cmd_simulate(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from .simulate import find_scenario, load_scenario, simulate
    from .simulate.output import page, render

    scenario = load_scenario(find_scenario(args.scenario))
    if args.seed is not None:
        scenario = scenario.model_copy(update={"seed": args.seed})
    if args.conversations is not None:
        if args.conversations < 1:
            raise CliError("--conversations must be at least 1")
        scenario = scenario.scaled_to(args.conversations)
    if args.html and not Path(args.html).resolve().parent.is_dir():
        raise CliError(f"cannot write {args.html}: no directory {Path(args.html).resolve().parent}")
    if args.verify and args.no_advice:
        raise CliError("--verify needs the advice: drop --no-advice")
    db = _simulation_db(args.db, args.force) if args.db else None
    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            unit = "hours" if stage == "advice" else "conversations"
            desc = {"day": "simulating the day", "advice": "searching the staffing",
                    "verify": "the day as advised"}[stage]
            bars[stage] = tqdm(total=total, unit=f" {unit}", desc=desc, leave=False, file=sys.stderr,
                               disable=args.quiet or not sys.stderr.isatty(), mininterval=0.5)
        bars[stage].update(done - bars[stage].n)

    result = simulate(scenario, advice=not args.no_advice, verify=args.verify, progress=progress, db=db)
    for bar in bars.values():
        bar.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(render(result))
    if args.html:
        Path(args.html).write_text(page(result), encoding="utf-8")
        print(f"wrote {args.html}")
    if db is not None:
        day = result["scenario"]["date"]
        config = f" --config {scenario.config}" if scenario.config else ""
        shown = hide_password(db) if isinstance(db, str) else db
        print(f"kept the simulated day in {shown}: reception report --db {shown}{config} --from {day} --to {day}",
              file=sys.stderr if args.json else sys.stdout)
    return 0


def _simulation_db(name: str, force: bool) -> Path | str:
    """Where `simulate --db` keeps the day: a new or empty file, or an empty PostgreSQL database (its URL);
    an existing SQLite file only with `force`."""
    store = database_of(name)
    if "url" in store:
        settings = load_settings(None, env={}, overrides={"store": store}).store
        if settings.url is not None:
            if force:
                raise CliError(f"--db {settings.shown}: --force cannot empty a PostgreSQL database; give an empty one")
            if asyncio.run(_stored_rows(settings)):
                raise CliError(f"--db {settings.shown}: the database is not empty; give an empty one")
            return settings.url
        name = str(settings.path)
    db = Path(name).resolve()
    if db.is_dir():
        raise CliError(f"--db {name}: is a directory")
    if not db.parent.is_dir():
        raise CliError(f"--db {name}: no directory {db.parent}")
    if db.is_file() and db.stat().st_size > 0:
        if not force:
            raise CliError(f"--db {name}: the file exists and is not empty; use --force to replace it")
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            path.unlink(missing_ok=True)
    return db


async def _stored_rows(settings: StoreSettings) -> int:
    store = make_store(settings)
    await store.open()
    try:
        return sum((await store.counts()).values())
    finally:
        await store.close()


def cmd_store_copy(args: argparse.Namespace) -> int:
    """Copy a whole shop into a database without one; exit 2 when refused (nothing written), 1 when it failed
    on the way (rolled back)."""
    import time

    from pydantic import ValidationError

    from .store.copy import CopyFailed, copy_shop

    if args.batch < 1:
        raise CliError("--batch must be at least 1")
    ends = []
    for what, db in (("SRC", args.src), ("DST", args.dst)):
        try:
            ends.append(StoreSettings.model_validate(database_of(db, what)))
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"].removeprefix("Value error, ").removeprefix(f"{db!r}: ")
            raise CliError(f"{what} {hide_password(db)}: {reason}") from None
    src, dst = ends
    header = [f"copying {src.shown} → {dst.shown}", f"{'table':<20} {'rows':>10}"]  # once past the refusals

    def report(table: str, expected: int, copied: int) -> None:
        while header:
            print(header.pop(0), flush=True)
        differs = "" if copied == expected else f"  ≠ {expected} in SRC"
        print(f"{table:<20} {copied:>10}{differs}", flush=True)

    started = time.perf_counter()
    try:
        rows = asyncio.run(copy_shop(src, dst, args.batch, report))
    except CopyFailed as exc:
        print(f"reception: error: {exc}", file=sys.stderr)
        return 1
    print(f"copied {rows} rows in {time.perf_counter() - started:.1f} s; every table's count matches SRC;"
          f" serve the shop from {dst.shown} now", flush=True)
    if src.url is None:
        from .channels.webchat_token import key_file_path

        key = key_file_path(load_settings(None, env={}, overrides={"store": {"path": str(src.path)}}))
        if key.is_file():
            print(f"note: the chat widget's signing key is in {key}, not in the database: give the shop on DST"
                  " the same key ([webchat] key_file or secret), or widget buyers start new conversations")
    return 0
