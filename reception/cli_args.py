"""What the `reception` command's arguments name: the shop's settings (its config, or the demo shop) and the
databases given as ``--db``, SRC or DST; `CliError` is a refusal said in one line (exit status 2)."""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path
from typing import Any

from .config import Settings, load_settings
from .config.sections import DATABASE_SCHEMES, hide_password

DEMO_DIR = Path("reception-data")


class CliError(RuntimeError):
    """A one-line message for the user; the command exits with status 2."""


def settings_of(args: argparse.Namespace, demo_ok: bool | str = False) -> Settings:
    """Settings from --config, $RECEPTION_CONFIG or ./reception.toml; otherwise the demo shop.

    ``demo_ok="serve"`` also gives the demo shop a fresh admin token, printed once.
    """
    path = args.config or os.environ.get("RECEPTION_CONFIG")
    if path is None and Path("reception.toml").is_file():
        path = "reception.toml"
    overrides: dict[str, Any] = {}
    if path is None:
        if not demo_ok:
            raise CliError("no reception.toml here; pass --config FILE or run `reception init DIR`")
        overrides["store"] = {"path": str(DEMO_DIR / "demo.db")}
        overrides["server"] = {"demo": True}
    if getattr(args, "db", None):
        overrides["store"] = database_of(args.db)
    if getattr(args, "faq", None):
        overrides["faq"] = [str(Path(p).resolve()) for p in args.faq]
    if getattr(args, "plugins_dir", None):
        overrides["plugins_dir"] = str(Path(args.plugins_dir).resolve())
    if path is None and demo_ok == "serve" and "RECEPTION_ADMIN__TOKEN" not in os.environ:
        token = secrets.token_urlsafe(18)
        overrides["admin"] = {"token": token}
        print(f"demo shop: admin token for this run is {token}", flush=True)
    return load_settings(Path(path) if path else None, overrides=overrides)


def database_of(db: str, what: str = "--db") -> dict[str, Any]:
    """``--db``: a SQLite file, or a database URL (postgresql://…, sqlite:///FILE) in place of ``[store]``'s."""
    if "://" not in db:
        return {"path": str(Path(db).resolve()), "url": None}
    scheme = db.partition("://")[0].lower()
    if scheme not in DATABASE_SCHEMES:
        raise CliError(f"{what} {hide_password(db)}: unsupported database URL; give a SQLite file, sqlite:///FILE"
                       " or postgresql://USER:PASSWORD@HOST/DB")
    return {"url": db}
