"""Helpers for tests and plugin authors: settings for a throwaway shop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import Settings, load_settings

ADMIN_TOKEN = "admin-token-for-tests"


def make_settings(tmp_path: Path, **sections: Any) -> Settings:
    """Settings for a shop whose database lives in `tmp_path`, with `ADMIN_TOKEN` as admin token.

    Keyword arguments replace or extend top-level sections, e.g.
    ``make_settings(tmp_path, webhook={"secret": "s3cr3t-value"})``.
    """
    overrides: dict[str, Any] = {"admin": {"token": ADMIN_TOKEN}, "store": {"path": str(tmp_path / "reception.db")}}
    for key, value in sections.items():
        overrides[key] = {**overrides.get(key, {}), **value} if isinstance(value, dict) else value
    return load_settings(None, env={}, overrides=overrides)
