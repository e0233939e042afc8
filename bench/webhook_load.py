"""Webhook throughput: `reception serve` on SQLite and on PostgreSQL, one instance and several behind nginx.

Each target runs in its own processes; one load process drives it over
loopback with many concurrent buyers, each message a fresh POST, and reports
messages per second and p50/p99 latency beside a bare aiohttp JSON endpoint
in the same run. Every answered message is looked for in the database
afterwards (SQLite through sqlite3, PostgreSQL through asyncpg), and what
each part used of the machine is read from /proc: the servers, the
PostgreSQL server (its postmaster and every child), nginx, this process,
and the rest of the machine (other work on a shared machine).

Without ``--store`` the targets are the bare endpoint and one instance on
SQLite with ``synchronous`` FULL and NORMAL. ``--store postgresql`` starts a
throwaway server (`reception.testing_pg`, with pg_stat_statements);
``--store postgresql://USER@HOST/DB`` uses an existing one, whose user must
be allowed to CREATE DATABASE (the bench drops what it created). Then:

- beside the bare endpoint and one instance on SQLite (FULL): one instance
  on PostgreSQL, direct, and 1 to ``--instances`` instances behind nginx
  (deploy/nginx.conf with the bench's ports, and a header naming the
  instance that answered: each instance's p50, the lease holder marked),
  each target on a fresh copy of one migrated database; per message, the
  transactions (pg_stat_database), and the statements and routing
  decisions (pg_stat_statements, where available);
- ``--handovers`` (1,000) fresh buyers asking for a person at once, 4 agents
  online with 3 buyers each at most: on one instance on SQLite, one on
  PostgreSQL and ``--instances`` behind nginx; the time from the first send
  to the last answer, and what the database holds afterwards (it must be 12
  assigned and 988 queued);
- on a throwaway server only, separate runs with the server's statement log
  on (``log_min_duration_statement = 0``): round trips per message, and for
  each routing decision the round trips and milliseconds for which it holds
  the shop's routing lock, the server's own share of them, and the wait for
  the lock; with one instance and with ``--instances`` behind nginx.

``--semantic off`` runs the instances without sentence vectors (the lexical
bot, as a shop without the ``semantic`` extra has it). ``--runs N`` repeats
everything N times (the machine is noisy) and ends
with each figure's spread. Everything the bench starts (instances, nginx,
PostgreSQL) is stopped when it ends, fails or gets SIGINT or SIGTERM. The
instances' stdout and stderr go to files, kept (and named at the end) only
when one of them logged an error.

    python bench/webhook_load.py [--requests 4000] [--concurrency 64] [--buyers 800] [--semantic off]
    python bench/webhook_load.py --store postgresql [--runs 3] [--instances 3] [--handovers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

try:
    import asyncpg  # the PostgreSQL targets only: pip install -e '.[postgres]'
except ImportError:
    asyncpg = None

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from serving import AGENTS, MAXIMUM, Bench, Postgres  # noqa: E402

from reception.faq.loader import load_dir  # noqa: E402

PREFIXES = ["", "亲，", "你好，", "hi, ", "请问", "在吗 ", "hello "]
SUFFIXES = ["", "？", "?", " 谢谢", " thanks", "呢", "啊", "!!"]
# a line of the server's statement log: "2025-01-01 10:00:00.123 UTC [4242] db=shop LOG:  duration: 0.051 ms  execute
# __asyncpg_stmt_1__: SELECT …" (extended protocol: parse, bind and execute each get a line; simple: "statement")
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \S+ \[(\d+)\] db=(\S*) LOG:  duration: ([\d.]+) ms  "
                      r"(statement|parse|bind|execute)[^:]*: (.*)$")


def _questions(rng: random.Random, n: int) -> list[str]:
    """Buyer messages made from the bundled FAQ's phrasings, decorated so that few repeat exactly."""
    phrasings = [q for entry in load_dir(ROOT / "faq") for q in entry.questions] + ["转人工", "asdf qwer"]
    return [rng.choice(PREFIXES) + rng.choice(phrasings) + rng.choice(SUFFIXES) for _ in range(n)]


# -- measurements -------------------------------------------------------------------------------------------

async def _drive(url: str, requests: int, concurrency: int, buyers: int, tag: str) -> dict[str, Any]:
    latencies: list[float] = []
    upstreams: dict[str, list[float]] = {}  # behind nginx: each instance's latencies, by its address
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
                        errors += response.status != 200
                        upstream = response.headers.get("X-Upstream")
                except aiohttp.ClientError:
                    errors, upstream = errors + 1, None
                latencies.append(time.perf_counter() - start)
                if upstream:
                    upstreams.setdefault(upstream, []).append(latencies[-1])

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    by_instance = {f"http://{address}": statistics.median(times) * 1000 for address, times in upstreams.items()}
    return {"rate": requests / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000, "errors": errors, "by_instance": by_instance}


async def load(bench: Bench, name: str, **serving: Any) -> dict[str, Any]:
    """Warm a target up, then time `--requests` messages; what each part used over the timed part."""
    args = bench.args
    pg = bench.pg if serving["store"] == "postgresql" else None
    async with bench.serving(name, **serving) as target:
        await _drive(target.url, min(300, args.requests), args.concurrency, args.buyers, f"warm-{name}")
        if pg:
            await asyncio.sleep(1.5)  # a backend reports its statistics at most once a second
            counters = await pg.counters(target.database)
        before = target.cpu(pg)
        result: dict[str, Any] = await _drive(target.url, args.requests, args.concurrency, args.buyers, name)
        per = {k: (v - before[k]) / args.requests for k, v in target.cpu(pg).items()}
        wall, machine = per.pop("wall") * args.requests, per.pop("machine")
        per["other"] = machine - sum(v for v in per.values() if v == v)  # v != v: NaN, no PostgreSQL here
        result["cpu"] = per
        # /proc counts in ticks of 10 ms: under a second is too short to say how busy the cores were
        result["busy"] = machine * args.requests / wall / (os.cpu_count() or 1) if wall >= 1 else float("nan")
        if target.nginx:
            result["instances"] = [(result["by_instance"].get(url, float("nan")), lease)
                                   for url, lease in zip(target.direct, await target.leases())]
        if pg:
            await asyncio.sleep(1.5)
            after = await pg.counters(target.database)
            result["xacts"] = (after["xacts"] - counters["xacts"]) / args.requests
            calls = {q: (n - counters["calls"].get(q, 0)) / args.requests for q, n in after["calls"].items()}
            result["calls"] = {q: n for q, n in calls.items() if n > 0}
        if serving["store"]:
            result["stored"] = (await bench.stored(
                target, "SELECT COUNT(*) FROM messages WHERE sender='buyer' AND message_id LIKE ?", f"{name}-%"))[0][0]
    return result


async def handovers(bench: Bench, name: str, **serving: Any) -> dict[str, Any]:
    """`--handovers` fresh buyers ask for a person at once, 4 agents of 3 online; timed until the last answer."""
    async with bench.serving(name, agents=True, **serving) as target:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            for agent in AGENTS:
                async with session.post(f"{target.url}/api/v1/agents/shop:{agent}/status", json={"status": "online"},
                                        headers={"Authorization": f"Bearer {agent}-bench-token"}) as response:
                    if response.status != 200:
                        raise RuntimeError(f"agent {agent} could not go online: {await response.text()}")

            async def buyer(i: int) -> tuple[int, str, float]:
                body = {"customer_id": f"h{i:05d}", "text": "转人工", "message_id": f"h{i:05d}"}
                try:
                    async with session.post(f"{target.url}/api/v1/webhook/messages", json=body) as response:
                        status, answer = response.status, await response.json(content_type=None)
                except (aiohttp.ClientError, ValueError):
                    status, answer = 0, {}
                return status, (answer or {}).get("status", "?"), time.perf_counter()

            started = time.perf_counter()
            answers = await asyncio.gather(*(buyer(i) for i in range(bench.args.handovers)))
        times = sorted(done - started for _, _, done in answers)
        places = dict(await bench.stored(target, "SELECT status, COUNT(*) FROM conversations GROUP BY status"))
    return {"seconds": times[-1], "first": times[0] * 1000, "p50": statistics.median(times) * 1000,
            "errors": sum(status != 200 for status, _, _ in answers),
            "answered": Counter(said for _, said, _ in answers), "places": places}


async def decisions(bench: Bench, instances: int, concurrency: int, requests: int, name: str) -> dict[str, float]:
    """Instances on PostgreSQL with the server's statement log on: each routing decision's round trips, the
    time it holds the shop's routing lock (from the lock granted to its COMMIT done, on its connection), how
    much of that the server itself spent on the statements and on COMMIT, and the wait for the lock."""
    pg = bench.pg
    assert pg is not None and pg.server is not None
    await pg.execute("ALTER SYSTEM SET log_min_duration_statement = 0", "SELECT pg_reload_conf()")
    try:
        async with bench.serving(name, store="postgresql", instances=instances, balanced=instances > 1) as target:
            await _drive(target.url, 200, concurrency, bench.args.buyers, f"warm-{name}")
            offset = pg.log_size()
            result = await _drive(target.url, requests, concurrency, bench.args.buyers, name)
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
    return {"rate": result["rate"], "all_trips": all_trips / requests,
            "trips": statistics.mean(trips), "wait": statistics.mean(wait), "held": mean,
            "p50": statistics.median(held), "p99": held[int(len(held) * 0.99) - 1],
            "server": statistics.mean(server), "commit": statistics.mean(commit), "ceiling": 1000 / mean}


# -- one run, and the spread of several ---------------------------------------------------------------------

def _print_loads(args: argparse.Namespace, loads: dict[str, dict[str, Any]]) -> None:
    bare, sqlite = loads["bare aiohttp JSON endpoint"]["rate"], loads["reception, SQLite FULL"]["rate"]
    print(f"\n{args.requests} messages, {args.concurrency} concurrent connections, {args.buyers} buyers,"
          f" {os.cpu_count()} cores, sentence vectors {args.semantic}\n")
    print(f"{'target':36} {'msgs/s':>7} {'vs SQLite':>9} {'vs bare':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
          f" {'stored':>6}  p50 ms of each instance behind nginx (*: the lease holder)")
    for name, r in loads.items():
        each = " ".join(f"{'*' if lease else ''}{p50:.0f}" for p50, lease in r.get("instances", []))
        print(f"{name:36} {r['rate']:7.0f} {r['rate'] / sqlite:9.2f} {r['rate'] / bare:7.2f} {r['p50']:7.1f}"
              f" {r['p99']:7.1f} {r['errors']:6d} {r.get('stored', '-'):>6}  {each}".rstrip())
    print("\nper message: CPU ms of the servers, the PostgreSQL server, nginx, this load process and the rest of the"
          f" machine;\nhow busy the {os.cpu_count()} cores were; transactions, statements and routing decisions (the"
          " shop's lock taken)\n")
    print(f"{'target':36} {'server':>7} {'postgres':>8} {'nginx':>6} {'load':>6} {'other':>6} {'busy':>5}"
          f" {'xacts':>6} {'statements':>10} {'decisions':>9}")
    for name, r in loads.items():
        cpu = {k: "-" if v != v else f"{v * 1000:.2f}" for k, v in r["cpu"].items()}
        xacts = f"{r['xacts']:.1f}" if "xacts" in r else "-"
        calls = r.get("calls", {})
        statements = f"{sum(calls.values()):.1f}" if calls else "-"
        decisions = f"{sum(n for q, n in calls.items() if 'pg_advisory_xact_lock' in q):.3f}" if calls else "-"
        busy = "-" if r["busy"] != r["busy"] else f"{r['busy']:.0%}"
        print(f"{name:36} {cpu['server']:>7} {cpu['postgres']:>8} {cpu['nginx']:>6} {cpu['load']:>6}"
              f" {cpu['other']:>6} {busy:>5} {xacts:>6} {statements:>10} {decisions:>9}")
    calls = loads.get("reception, PostgreSQL, direct", {}).get("calls")
    if calls:
        print("\nstatements per message, one instance on PostgreSQL, direct (pg_stat_statements, the most called):")
        for query, n in sorted(calls.items(), key=lambda item: -item[1])[:16]:
            print(f"  {n:5.2f}  {' '.join(query.split())[:100]}")


async def one_run(bench: Bench, run: int) -> dict[str, dict[str, dict[str, Any]]]:
    args, pg = bench.args, bench.pg
    print(f"\n== run {run} of {args.runs}")
    loads = {"bare aiohttp JSON endpoint": await load(bench, f"r{run}bare", store=None),
             "reception, SQLite FULL": await load(bench, f"r{run}full", store="sqlite-FULL")}
    if pg is None:
        loads["reception, SQLite NORMAL"] = await load(bench, f"r{run}normal", store="sqlite-NORMAL")
        _print_loads(args, loads)
        return {"loads": loads}
    loads["reception, PostgreSQL, direct"] = await load(bench, f"r{run}pg", store="postgresql")
    for n in range(1, args.instances + 1):
        loads[f"nginx + {n} reception, PostgreSQL"] = await load(bench, f"r{run}lb{n}", store="postgresql",
                                                                 instances=n, balanced=True)
    _print_loads(args, loads)

    print(f"\n{args.handovers} simultaneous handovers, {len(AGENTS)} agents online with max_concurrent {MAXIMUM}:"
          " seconds from the first send to the last answer\n")
    print(f"{'target':36} {'seconds':>7} {'first ms':>8} {'p50 ms':>7} {'errors':>6} {'answers':>24}"
          f" {'in the database':>24}")
    moves = {}
    for name, serving in (("one reception, SQLite FULL", {"store": "sqlite-FULL"}),
                          ("one reception, PostgreSQL, direct", {"store": "postgresql"}),
                          (f"nginx + {args.instances} reception, PostgreSQL",
                           {"store": "postgresql", "instances": args.instances, "balanced": True})):
        r = moves[name] = await handovers(bench, f"r{run}h{len(moves)}", **serving)
        answered = " ".join(f"{k} {v}" for k, v in sorted(r["answered"].items()))
        places = " ".join(f"{k} {v}" for k, v in sorted(r["places"].items()))
        print(f"{name:36} {r['seconds']:7.2f} {r['first']:8.0f} {r['p50']:7.0f} {r['errors']:6d} {answered:>24}"
              f" {places:>24}")
    if pg.server is None:
        return {"loads": loads, "handovers": moves}

    print("\nrouting decisions on PostgreSQL, from the server's statement log (separate runs with the log on)\n")
    print(f"{'instances':>9} {'concurrency':>11} {'msgs/s':>6} {'trips/msg':>9} {'under lock':>10}"
          f" {'lock wait':>9} {'held: mean':>10} {'p50':>4} {'p99':>4} {'in server':>9} {'COMMIT':>6}"
          f" {'→ decisions/s':>13}")
    logged = {}
    for instances, concurrency, requests in ((1, 1, 300), (1, args.concurrency, 1000),
                                             (args.instances, args.concurrency, 1000)):
        r = logged[f"{instances} instance(s), concurrency {concurrency}"] = await decisions(
            bench, instances, concurrency, requests, f"r{run}log{instances}x{concurrency}")
        print(f"{instances:9d} {concurrency:11d} {r['rate']:6.0f} {r['all_trips']:9.1f} {r['trips']:10.1f}"
              f" {r['wait']:9.2f} {r['held']:10.2f} {r['p50']:4.0f} {r['p99']:4.0f} {r['server']:9.2f}"
              f" {r['commit']:6.2f} {r['ceiling']:13.0f}")
    print("(ms per decision: 'lock wait' is the server's time in pg_advisory_xact_lock; 'held' runs from the lock"
          " granted to COMMIT done,\n of which the server spent 'in server' on the statements, 'COMMIT' of that in"
          " the COMMIT; the rest is the network and the instance)")
    return {"loads": loads, "handovers": moves, "decisions": logged}


def spread(args: argparse.Namespace, runs: list[dict[str, dict[str, dict[str, Any]]]]) -> None:
    """Each figure's lowest and highest value over the runs."""
    def span(values: list[float], digits: int = 0) -> str:
        return f"{min(values):.{digits}f}–{max(values):.{digits}f}"

    def ms(rows: list[dict[str, Any]], part: str) -> str:
        return span([r["cpu"][part] * 1000 for r in rows], 2)

    print(f"\n== spread over {len(runs)} runs (lowest–highest)\n")
    sqlite = [run["loads"]["reception, SQLite FULL"]["rate"] for run in runs]
    bare = [run["loads"]["bare aiohttp JSON endpoint"]["rate"] for run in runs]
    for name in runs[0]["loads"]:
        rows = [run["loads"][name] for run in runs]
        rates = [r["rate"] for r in rows]
        line = (f"{name:36} {span(rates):>9} msgs/s, vs SQLite {span([a / b for a, b in zip(rates, sqlite)], 2)},"
                f" vs bare {span([a / b for a, b in zip(rates, bare)], 2)}, p99 {span([r['p99'] for r in rows])} ms;"
                f" CPU ms/msg: server {ms(rows, 'server')}")
        if "xacts" in rows[0]:
            line += f", postgres {ms(rows, 'postgres')}, other {ms(rows, 'other')}"
        if len(rows[0].get("instances", [])) > 1:  # p50 of the lease holder and of the others
            line += (f"; p50 ms of the lease holder {span([p for r in rows for p, lease in r['instances'] if lease])},"
                     f" of the others {span([p for r in rows for p, lease in r['instances'] if not lease])}")
        print(line)
    for name in runs[0].get("handovers", {}):
        rows = [run["handovers"][name] for run in runs]
        print(f"{args.handovers} handovers, {name:36} {span([r['seconds'] for r in rows], 2)} s")
    for name in runs[0].get("decisions", {}):
        rows = [run["decisions"][name] for run in runs]
        print(f"decisions, {name:30} lock held {span([r['held'] for r in rows], 2)} ms"
              f" ({span([r['trips'] for r in rows], 1)} round trips, {span([r['server'] for r in rows], 2)} ms in the"
              f" server), lock wait {span([r['wait'] for r in rows], 2)} ms → {span([r['ceiling'] for r in rows])}"
              " decisions/s")


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--buyers", type=int, default=800)
    parser.add_argument("--store", help="postgresql (a throwaway server) or postgresql://USER@HOST/DB")
    parser.add_argument("--instances", type=int, default=3, help="behind nginx: 1 to this many (default 3)")
    parser.add_argument("--handovers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--semantic", choices=["auto", "on", "off"], default="auto",
                        help="the instances' [bot] semantic: sentence vectors when installed (auto), or not (off)")
    args = parser.parse_args(argv)
    if args.store and not args.store.startswith(("postgresql", "postgres://")):
        parser.error("--store takes postgresql or a postgresql:// URL")
    if args.store and asyncpg is None:
        parser.error("asyncpg is not installed: pip install -e '.[postgres]'")
    if args.store and shutil.which("nginx") is None:
        parser.error("nginx is not installed (make system-packages installs Debian's)")
    sys.stdout.reconfigure(line_buffering=True)
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)  # SIGINT does so already
    tmp = Path(tempfile.mkdtemp(prefix="reception-bench-"))
    pg = Postgres(None if args.store == "postgresql" else args.store) if args.store else None
    bench = Bench(args, tmp, pg)
    try:
        if pg is not None:
            await pg.start()
        runs = [await one_run(bench, run) for run in range(1, args.runs + 1)]
        if args.runs > 1:
            spread(args, runs)
    finally:
        if pg is not None:
            await pg.stop()
        troubled = [log.name for log in bench.logs
                    if re.search(r"Traceback| ERROR | CRITICAL ", log.read_text(errors="replace"))]
        if troubled:
            print(f"\ninstances logged errors, kept in {tmp}: {', '.join(troubled)}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit("webhook_load: interrupted; what it had started is stopped")
