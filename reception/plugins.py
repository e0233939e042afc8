"""Plugin loading: the default plugins, the ``reception`` entry-point group and a plugins directory."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Iterable

import pluggy

from . import hookspecs

# Built-in behaviour is itself plugins, registered first so that every other plugin runs before it.
DEFAULT_PLUGINS = (
    "reception.faq.bot",
    "reception.handover",
    "reception.channels.webhook",
    "reception.channels.webchat",
    "reception.api",
    "reception.routing.select",
    "reception.routing.service",
    "reception.routing.agent_api",
    "reception.routing.conversation_api",
    "reception.compliance",
    "reception.faq.api",
    "reception.faq.unanswered",
    "reception.stats",
    "reception.metrics.api",
    "reception.metrics.alerts",
    "reception.privacy",
    "reception.modes",
    "reception.coverage",
    "reception.orders.plugin",
    "reception.orders.api",
    "reception.skills.logistics",
    "reception.skills.address",
    "reception.skills.spec",
    "reception.skills.cancel",
    "reception.web",
    "reception.web.live",
)


class PluginError(RuntimeError):
    """A plugin could not be loaded; the message names it."""


def _load_dir(pm: pluggy.PluginManager, directory: Path) -> None:
    if not directory.is_dir():
        raise PluginError(f"plugins directory not found: {directory}")
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = f"reception_plugins_dir.{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise PluginError(f"cannot load plugin {path}")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise PluginError(f"plugin {path} failed to import: {exc}") from None
        sys.modules[name] = module
        pm.register(module, name=path.stem)


def make_plugin_manager(extra: Iterable[Any] = (), plugins_dir: Path | None = None) -> pluggy.PluginManager:
    """A plugin manager with the hook specs, the defaults, installed plugins, a directory and `extra`."""
    pm = pluggy.PluginManager("reception")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints("reception")
    if plugins_dir is not None:
        _load_dir(pm, Path(plugins_dir))
    for plugin in extra:
        pm.register(plugin)
    pm.check_pending()
    return pm


def describe(pm: pluggy.PluginManager) -> list[tuple[str, list[str]]]:
    """(plugin name, the hooks it implements) for every registered plugin, in registration order."""
    rows = []
    for name, plugin in pm.list_name_plugin():
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        rows.append((name, hooks))
    return rows
