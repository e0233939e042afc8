"""Plugin loading: the default plugins, the ``reception`` entry-point group and a plugins directory."""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from typing import Any, Iterable

import pluggy

from . import hookspecs
from .hooks import SYNC_HOOKS, plugin_label

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
        _register(pm, module, path.stem)


def make_plugin_manager(extra: Iterable[Any] = (), plugins_dir: Path | None = None) -> pluggy.PluginManager:
    """A plugin manager with the hook specs, the defaults, installed plugins, a directory and `extra`."""
    pm = pluggy.PluginManager("reception")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        _register(pm, importlib.import_module(name), name)
    try:
        pm.load_setuptools_entrypoints("reception")
    except pluggy.PluginValidationError as exc:
        raise PluginError(_one_line(pm, exc, None)) from None
    if plugins_dir is not None:
        _load_dir(pm, Path(plugins_dir))
    for plugin in extra:
        _register(pm, plugin, None)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(_one_line(pm, exc, pm.get_name(exc.plugin))) from None
    _check_sync(pm)
    return pm


def _register(pm: pluggy.PluginManager, plugin: Any, name: str | None) -> None:
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(_one_line(pm, exc, name)) from None


def _one_line(pm: pluggy.PluginManager, exc: pluggy.PluginValidationError, name: str | None) -> str:
    """pluggy's several-line refusal as ``plugin 'NAME': …`` on one line."""
    head = f"plugin {plugin_label(exc.plugin, name)!r}"
    text = str(exc)
    if unknown := re.match(r"unknown hook '(\w+)'", text):
        hooks = [hook for hook, caller in vars(pm.hook).items() if getattr(caller, "spec", None) is not None]
        close = difflib.get_close_matches(unknown[1], hooks, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; the hooks are {', '.join(sorted(hooks))}"
        return f"{head}: unknown hook {unknown[1]!r}{hint}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and (about := re.match(r"Plugin .* for hook '(\w+)'$", lines[0])):
        hook = about[1]
        caller = getattr(pm.hook, hook, None)
        if "can not be found in the hookspec" in text and caller is not None and caller.spec is not None:
            lines.append(f"the hook takes {', '.join(caller.spec.argnames)}")
        return f"{head}: hook {hook!r}: {'; '.join(lines[1:])}"
    return f"{head}: {'; '.join(lines)}"


def _check_sync(pm: pluggy.PluginManager) -> None:
    """Refuse an ``async def`` implementation of a hook the code calls without awaiting (`SYNC_HOOKS`).

    Its coroutine would never run: ``select_agent`` would queue every buyer, ``register_routes`` add no route.
    Implementations of the other hooks may be either: `reception.hooks` awaits what they return.
    """
    for hook in sorted(SYNC_HOOKS):
        for impl in getattr(pm.hook, hook).get_hookimpls():
            if inspect.iscoroutinefunction(impl.function) or inspect.isasyncgenfunction(impl.function):
                raise PluginError(f"plugin {plugin_label(impl.plugin, impl.plugin_name)!r}: hook {hook!r} is called"
                                  " without await, so it must be a plain `def`, not `async def`")


def describe(pm: pluggy.PluginManager) -> list[tuple[str, list[str]]]:
    """(plugin name, the hooks it implements) for every registered plugin, in registration order."""
    rows = []
    for name, plugin in pm.list_name_plugin():
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        rows.append((name, hooks))
    return rows
