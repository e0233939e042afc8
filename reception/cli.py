"""The `reception` command: serve · init · faq check/suggest/eval · plugins · orders import · buyer forget · report ·
simulate · store copy (the last two in `cli_data`; what the arguments name, in `cli_args`)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import shutil
import signal
import sys
from pathlib import Path

from aiohttp import web

from .cli_args import CliError, settings_of
from .cli_data import cmd_simulate, cmd_store_copy
from .config import BUNDLED_FAQ, ConfigError, Settings
from .config.risks import risks
from .faq.loader import FaqError
from .logs import AccessLog, configure as configure_logs
from .plugins import PluginError
from .store import StoreError
from .store.copy import BATCH as COPY_BATCH

EXAMPLE_CONFIG = Path(__file__).parent / "data" / "reception.example.toml"
DB_HELP = "SQLite file or database URL, postgresql://… or sqlite:///FILE (default: the config's [store])"


async def _serve(settings: Settings, host: str, port: int) -> None:
    from .app import create_app
    from .core import RECEPTION
    from .faq.bot import library as faq_library

    # aiohttp's keep-alive timer starts when a connection opens and after each answer, and closes the connection
    # if no whole request has arrived by then: it bounds unfinished headers (slowloris) as well as idle keep-alive
    runner = web.AppRunner(create_app(settings), shutdown_timeout=30, handle_signals=False,
                           keepalive_timeout=settings.server.header_timeout_seconds, access_log_class=AccessLog)
    await runner.setup()  # runs startup: store, FAQ; errors surface here, before listening
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:  # the port is taken, or not ours to take: one line, not a traceback
        await runner.cleanup()
        reasons: dict[int | None, str] = {
            errno.EADDRINUSE: "the address is already in use (is another server running there?)",
            errno.EACCES: "permission denied (ports below 1024 need privileges)",
            errno.EADDRNOTAVAIL: "this machine has no such address"}
        reason = reasons.get(exc.errno, exc.strerror or str(exc))
        raise CliError(f"cannot listen on {host}:{port}: {reason}") from None
    addresses = runner.addresses  # the bound sockets' addresses; port 0 picks a free one
    bound = addresses[0][1] if addresses else port
    faq = ", ".join(str(p) for p in settings.faq)
    print(f"reception serving on http://{host}:{bound} (db {settings.store.shown}; faq {faq})", flush=True)
    print(f"mode: {_mode_line(settings)}", flush=True)
    for line in risks(settings):
        logging.getLogger("reception.config").warning(line)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reception = runner.app[RECEPTION]
    loop.add_signal_handler(signal.SIGHUP, lambda: reception.spawn(
        faq_library(reception).reload(reception.clock.now()), "faq-reload"))
    await stop.wait()
    print("reception: stopping; finishing requests in flight", flush=True)
    await runner.cleanup()
    print("reception: stopped, everything accepted is on disk", flush=True)


def _mode_line(settings: Settings) -> str:
    """Which modes are on now, and the windows that will switch them (no restart needed)."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    parts = []
    for name, switch in (("big sale", settings.big_sale), ("penalty", settings.penalty)):
        if not switch.enabled:
            continue
        window = (f" {switch.start.isoformat() if switch.start else '…'}"
                  f" → {switch.end.isoformat() if switch.end else '…'}")
        state = "ON" if switch.active(now) else "scheduled"
        parts.append(f"{name} {state}" + (window if switch.start or switch.end else ""))
    return "; ".join(parts) if parts else "normal (big sale and penalty off)"


def cmd_serve(args: argparse.Namespace) -> None:
    settings = settings_of(args, demo_ok="serve")
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    configure_logs(args.log_format or settings.server.log_format)
    asyncio.run(_serve(settings, host, port))


def cmd_init(args: argparse.Namespace) -> None:
    target = Path(args.dir)
    config = target / "reception.toml"
    if config.exists() and not args.force:
        raise CliError(f"{config} exists; use --force to overwrite")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLE_CONFIG, config)
    faq = target / "faq"
    if not faq.exists():
        shutil.copytree(BUNDLED_FAQ, faq)
    sale = target / "double11.toml"
    if not sale.exists():  # the bundled Double 11, rehearsed with this shop's own config
        text = (EXAMPLE_CONFIG.parent / "scenarios" / "double11.toml").read_text(encoding="utf-8")
        sale.write_text(text.replace('config = "double11-shop.toml"', 'config = "reception.toml"'), encoding="utf-8")
    print(f"wrote {config}, {faq}/ and {sale}; edit them, then run: reception serve --config {config}"
          f" (rehearse a sale: reception simulate {sale})")


def cmd_faq_check(args: argparse.Namespace) -> None:
    """Refuses a bad FAQ (exit 2); otherwise the doctor's figures and advice (exit 0)."""
    from .faq.bot import encoder
    from .faq.diskcache import DiskCache
    from .faq.doctor import report
    from .faq.library import build
    from .faq.loader import load_with_files

    settings = settings_of(args, demo_ok=True)
    dirs = [Path(p) for p in args.faq] if args.faq else settings.faq
    entries, files = load_with_files(*dirs)
    print(f"FAQ in {', '.join(map(str, dirs))}")
    faq = build(entries, files, settings.bot.max_wrong_share, encoder(settings.bot.semantic),
                DiskCache(settings.bot.cache_dir))
    print(report(faq.diagnosis, settings.bot.max_wrong_share))


def cmd_faq_suggest(args: argparse.Namespace) -> int:
    from .clock import RealClock
    from .faq.unanswered import run

    return run(settings_of(args, demo_ok=True), args.days, RealClock().now(), sys.stdout, sys.stderr)


def cmd_faq_eval(args: argparse.Namespace) -> int:
    from .faq.evaluate import main as evaluate

    return evaluate(args.rest)


def cmd_plugins(args: argparse.Namespace) -> int:
    from .plugin_list import run

    return run(settings_of(args, demo_ok=True), sys.stdout)


def cmd_orders_import(args: argparse.Namespace) -> int:
    from .orders.importer import run

    return run(Path(args.file), settings_of(args, demo_ok=True), args.partial, sys.stdout, sys.stderr)


def cmd_buyer_forget(args: argparse.Namespace) -> int:
    from .privacy import run_forget

    return run_forget(settings_of(args, demo_ok=True), args.customer_id, args.force, sys.stdout, sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    from .metrics.report import run

    html = Path(args.html) if args.html else None
    return run(settings_of(args, demo_ok=True), args.start, args.end, args.json, sys.stdout, sys.stderr, html=html)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reception", description="Customer reception for online shops.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (the demo shop when there is no config)")
    serve.add_argument("--config", help="reception.toml to use")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--db", help=DB_HELP)
    serve.add_argument("--faq", action="append", help="FAQ directory (repeatable)")
    serve.add_argument("--plugins-dir", help="directory of plugin modules to load")
    serve.add_argument("--log-format", choices=("text", "json"),
                       help="log lines as text (default) or one JSON object each ([server] log_format)")
    serve.set_defaults(func=cmd_serve)

    init = sub.add_parser("init", help="write an example config and an editable FAQ folder")
    init.add_argument("dir")
    init.add_argument("--force", action="store_true")
    init.set_defaults(func=cmd_init)

    faq = sub.add_parser("faq", help="FAQ tools").add_subparsers(dest="faq_command", required=True)
    check = faq.add_parser("check", help="validate FAQ files")
    check.add_argument("--config")
    check.add_argument("--faq", action="append")
    check.set_defaults(func=cmd_faq_check)
    suggest = faq.add_parser("suggest", help="what buyers asked that the bot could not answer, grouped")
    suggest.add_argument("--config", help="reception.toml of the shop (default: ./reception.toml, else the demo)")
    suggest.add_argument("--db", help=DB_HELP)
    suggest.add_argument("--faq", action="append", help="FAQ directory (repeatable; default: the config's)")
    suggest.add_argument("--days", type=int, default=7, metavar="N", help="the last N days (default 7)")
    suggest.set_defaults(func=cmd_faq_suggest)
    evaluate = faq.add_parser("eval", help="measure the FAQ bot on the development datasets")
    evaluate.add_argument("rest", nargs=argparse.REMAINDER, help="the evaluation's options (--semantic, --seed …)")
    evaluate.set_defaults(func=cmd_faq_eval)

    plugins = sub.add_parser("plugins", help="list the plugins: where each comes from, its hooks or 'disabled'")
    plugins.add_argument("--config")
    plugins.add_argument("--plugins-dir")
    plugins.set_defaults(func=cmd_plugins)

    orders = sub.add_parser("orders", help="order data").add_subparsers(dest="orders_command", required=True)
    load = orders.add_parser("import", help="load orders from a CSV or JSON file (all rows valid, or nothing)")
    load.add_argument("file", help="CSV with a header row, or a JSON list of orders")
    load.add_argument("--config", help="reception.toml of the shop (default: ./reception.toml, else the demo)")
    load.add_argument("--db", help=DB_HELP)
    load.add_argument("--partial", action="store_true", help="import the valid rows even when some are bad")
    load.set_defaults(func=cmd_orders_import)

    buyer = sub.add_parser("buyer", help="a buyer's data").add_subparsers(dest="buyer_command", required=True)
    forget = buyer.add_parser("forget", help="erase one buyer's messages, orders and ids; the figures stay")
    forget.add_argument("customer_id", metavar="ID", help="the buyer's customer_id (on every channel)")
    forget.add_argument("--config", help="reception.toml of the shop (default: ./reception.toml, else the demo)")
    forget.add_argument("--db", help=DB_HELP)
    forget.add_argument("--force", action="store_true",
                        help="also erase conversations an agent or queue holds now (stop the server first)")
    forget.set_defaults(func=cmd_buyer_forget)

    report = sub.add_parser("report", help="the platform assessment metrics and intent analytics as tables")
    report.add_argument("--config", help="reception.toml of the shop (default: ./reception.toml, else the demo)")
    report.add_argument("--db", help=DB_HELP)
    report.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first local day (default: today)")
    report.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last local day, inclusive (default: today)")
    output = report.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the figures as JSON instead of tables")
    output.add_argument("--html", metavar="FILE", help="write a self-contained HTML report with charts to FILE")
    report.set_defaults(func=cmd_report)

    simulate = sub.add_parser("simulate", help="rehearse a day (a big sale) and get staffing advice per hour")
    simulate.add_argument("scenario", help="SCENARIO.toml, or the name of a bundled one (double11)")
    simulate.add_argument("--conversations", type=int, metavar="N",
                          help="scale the day to N conversations, agents in proportion")
    simulate.add_argument("--seed", type=int, help="another random day with the same shape")
    simulate.add_argument("--no-advice", action="store_true", help="skip the staffing search")
    simulate.add_argument("--verify", action="store_true", help="run the day again, staffed as advised")
    simulate.add_argument("--json", action="store_true", help="print the figures as JSON")
    simulate.add_argument("--html", metavar="FILE", help="also write an HTML page with charts to FILE")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.add_argument("--db", metavar="FILE|URL",
                          help="keep the simulated day in this SQLite file (or empty PostgreSQL database), for"
                               " `reception report --db FILE|URL`")
    simulate.add_argument("--force", action="store_true", help="with --db: replace an existing database")
    simulate.set_defaults(func=cmd_simulate)

    store = sub.add_parser("store", help="the shop's database").add_subparsers(dest="store_command", required=True)
    copy = store.add_parser(
        "copy", help="copy a whole shop to another database (SQLite or PostgreSQL, either way)",
        description="Copy every table of the shop in SRC into DST: SQLite to PostgreSQL, back, or to another of the"
                    " same kind. Stop the shop first: what SRC gets during the copy is not copied.",
        epilog="SRC is only read; it must be a reception database at this version's schema (an older one is"
               " refused: open it once with this version, e.g. `reception report --db SRC`, which migrates it)."
               " DST must be a new SQLite file or an existing PostgreSQL database without a shop; its schema is"
               " created as `reception serve` would, then every row goes in in one transaction, ids and order"
               " kept, and each table's count is checked against SRC before it commits. Exit status: 0 copied,"
               " 2 refused (nothing written), 1 failed on the way (rolled back: DST holds no shop).")
    copy.add_argument("src", metavar="SRC", help="the shop: a SQLite file, sqlite:///FILE or postgresql://…")
    copy.add_argument("dst", metavar="DST", help="where to: a new SQLite file or an empty PostgreSQL database")
    copy.add_argument("--batch", type=int, default=COPY_BATCH, metavar="N",
                      help=f"rows read and written at a time (default {COPY_BATCH})")
    copy.set_defaults(func=cmd_store_copy)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["faq", "eval"]:  # every argument after it is the evaluation's own (--semantic, --help …)
        return cmd_faq_eval(argparse.Namespace(rest=argv[2:]))
    args = _parser().parse_args(argv)
    try:
        status = args.func(args)
    except (CliError, ConfigError, FaqError, PluginError, StoreError) as exc:
        print(f"reception: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
