"""``reception plugins``: every plugin with where it comes from, the hooks it implements, or that it is disabled."""

from __future__ import annotations

from typing import TextIO

from .config import Settings
from .plugins import make_plugin_manager


def rows(settings: Settings) -> list[tuple[str, str, str]]:
    """(name, source, hooks or "disabled") for each plugin: the registered ones in order, then the disabled."""
    pm = make_plugin_manager(plugins_dir=settings.plugins_dir, disabled=settings.plugins.disabled, strict=False)
    found = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        found.append((name, str(pm.sources.get(name, "code")), ", ".join(hooks) or "(no hooks)"))
    for name, source in pm.disabled.items():
        found.append((name, str(source) if source else "not installed", "disabled"))
    return found


def run(settings: Settings, out: TextIO) -> int:
    """Print the table of `rows`; the columns are aligned, one plugin a line."""
    table = [("PLUGIN", "SOURCE", "HOOKS"), *rows(settings)]
    widths = [max(len(row[i]) for row in table) for i in range(2)]
    for name, source, hooks in table:
        print(f"{name:<{widths[0]}}  {source:<{widths[1]}}  {hooks}", file=out)
    return 0
