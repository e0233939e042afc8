"""Plugin loading: the default plugins, the ``reception`` entry-point group, a plugins directory and code.

Each registered plugin keeps where it came from (`Source`, listed by ``reception plugins``). ``[plugins]
disabled`` names plugins not to load, whatever their source; `REQUIRED` defaults cannot be disabled. A
module that is installed and also passed in code is registered once; the same file twice in the plugins
directory (a symlink, a hard link), or a file there that an installed plugin already loaded, is refused.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pluggy

from . import hookspecs
from .hooks import SYNC_HOOKS, check_wrappers, plugin_label, trace

# Built-in behaviour is itself plugins, registered first so that every other plugin runs before it.
DEFAULT_PLUGINS = (
    "reception.faq.bot",
    "reception.handover",
    "reception.channels.webhook",
    "reception.channels.webchat",
    "reception.channels.wecom",  # off until [plugin.wecom] is configured
    "reception.api",
    "reception.routing.select",
    "reception.routing.service",
    "reception.routing.agent_api",
    "reception.routing.conversation_api",
    "reception.routing.notes_api",  # agents' internal notes and tags, the corrected intent
    "reception.routing.search_api",  # conversation search for agents (their own) and the admin
    "reception.media.api",  # photos: uploads from buyers and agents, served per conversation
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
    "reception.skills.flow",
    "reception.skills.logistics",
    "reception.skills.address",
    "reception.skills.spec",
    "reception.skills.cancel",
    "reception.web",
    "reception.web.live",
)
# Defaults the core cannot run without (or that CONTRACT.md promises): never disabled
REQUIRED = {
    "reception.api": "it serves /healthz and the OpenAPI document",
    "reception.channels.webhook": "the webhook channel is part of the external contract",
    "reception.routing.select": "it holds the default select_agent and handover_group",
    "reception.routing.service": "it restores the router's state at start",
    "reception.routing.agent_api": "the agents' API is part of the external contract",
    "reception.routing.conversation_api": "the agents' API is part of the external contract",
    "reception.modes": "the pipeline reads the penalty and big-sale modes it keeps",
}
ENTRY_POINT_GROUP = "reception"


class PluginError(RuntimeError):
    """A plugin could not be loaded; the message names it."""


@dataclass(frozen=True)
class Source:
    """Where a plugin comes from: ``default``, ``entry point``, ``plugins dir`` or ``code``, with a detail."""

    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} ({self.detail})" if self.detail else self.kind


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, remembering each plugin's `Source` and the plugins left out by ``[plugins] disabled``."""

    def __init__(self) -> None:
        super().__init__("reception")
        self.sources: dict[str, Source] = {}
        self.disabled: dict[str, Source | None] = {}  # name -> where it would have come from (None: not found)


def _file_key(plugin: Any) -> tuple[int, int] | None:
    """The identity of a module's file (device, inode): the same through a symlink or a hard link."""
    path = getattr(plugin, "__file__", None)
    if not isinstance(path, str) or not inspect.ismodule(plugin):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _loaded_files(pm: PluginManager) -> dict[tuple[int, int], str]:
    return {key: name for name, plugin in pm.list_name_plugin()
            if plugin is not None and (key := _file_key(plugin)) is not None}


def _skip(pm: PluginManager, name: str, source: Source) -> bool:
    """True when `name` is disabled (it is then listed as such, with where it would have come from)."""
    if not pm.is_blocked(name):
        return False
    pm.disabled[name] = source
    return True


def _load_entry_points(pm: PluginManager) -> None:
    seen = set()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        source = Source("entry point", f"{dist.name} {dist.version}" if dist is not None else ep.value)
        if (ep.name, ep.value) in seen or _skip(pm, ep.name, source):
            continue  # a distribution found twice on sys.path lists its entry points twice
        seen.add((ep.name, ep.value))
        if pm.has_plugin(ep.name):
            raise PluginError(f"plugin {ep.name!r} ({source}): a plugin of that name is already registered"
                              f" ({pm.sources.get(ep.name)})")
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(f"plugin {ep.name!r} ({source}) failed to import: {type(exc).__name__}: {exc}") from None
        if pm.is_registered(plugin):
            continue  # the same module under a second name
        _register(pm, plugin, ep.name, source)


def _load_dir(pm: PluginManager, directory: Path) -> None:
    if not directory.is_dir():
        raise PluginError(f"plugins directory not found: {directory}")
    files: dict[tuple[int, int], Path] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        st = path.stat()
        key = (st.st_dev, st.st_ino)
        if key in files:
            raise PluginError(f"plugins directory: {path} is the same file as {files[key]} (a link); it would be"
                              " loaded twice: remove one")
        files[key] = path
        if (loaded := _loaded_files(pm).get(key)) is not None:
            raise PluginError(f"plugins directory: {path} is already loaded as plugin {loaded!r}"
                              f" ({pm.sources.get(loaded)}); it would be loaded twice: remove one")
        source = Source("plugins dir", str(path))
        if _skip(pm, path.stem, source):
            continue
        if pm.has_plugin(path.stem):
            raise PluginError(f"plugins directory: {path}: a plugin named {path.stem!r} is already registered"
                              f" ({pm.sources.get(path.stem)}); rename the file")
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
        _register(pm, module, path.stem, source)


def _load_code(pm: PluginManager, extra: Iterable[Any]) -> None:
    for plugin in extra:
        if pm.is_registered(plugin):
            continue  # installed (an entry point) and passed in code too: registered once
        key = _file_key(plugin)
        if key is not None and key in _loaded_files(pm):
            continue  # the same file imported as another module (e.g. by path in a test): registered once
        name = pm.get_canonical_name(plugin)
        if _skip(pm, name, Source("code")):
            continue
        if pm.has_plugin(name):
            raise PluginError(f"plugin {plugin_label(plugin, name)!r} (code): another plugin of that name is"
                              f" already registered ({pm.sources.get(name)})")
        _register(pm, plugin, None, Source("code"))


def _disable(pm: PluginManager, disabled: Iterable[str]) -> None:
    for name in disabled:
        if name in REQUIRED:
            raise PluginError(f"plugins.disabled: {name!r} cannot be disabled: {REQUIRED[name]}")
        pm.set_blocked(name)
        pm.disabled[name] = Source("default") if name in DEFAULT_PLUGINS else None


def make_plugin_manager(extra: Iterable[Any] = (), plugins_dir: Path | None = None, disabled: Iterable[str] = (),
                        strict: bool = True) -> PluginManager:
    """A plugin manager with the hook specs, the defaults, installed plugins, a directory and `extra`.

    `disabled` (``[plugins] disabled``) names plugins not to load; with `strict`, a name that matches no
    plugin is refused (a typo would otherwise leave the plugin running).
    """
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    _disable(pm, disabled)
    for name in DEFAULT_PLUGINS:
        if not pm.is_blocked(name):
            _register(pm, importlib.import_module(name), name, Source("default"))
    _load_entry_points(pm)
    if plugins_dir is not None:
        _load_dir(pm, Path(plugins_dir))
    _load_code(pm, extra)
    unknown = sorted(name for name, source in pm.disabled.items() if source is None)
    if strict and unknown:
        known = [name for name, plugin in pm.list_name_plugin() if plugin is not None]
        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; `reception plugins` lists the names"
        raise PluginError(f"plugins.disabled: no plugin named {unknown[0]!r}{hint}")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(_one_line(pm, exc, pm.get_name(exc.plugin))) from None
    _check_sync(pm)
    if (problem := check_wrappers(pm)) is not None:
        raise PluginError(problem)
    trace(pm)
    return pm


def _register(pm: PluginManager, plugin: Any, name: str | None, source: Source) -> None:
    try:
        registered = pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(_one_line(pm, exc, name)) from None
    if registered is not None:
        pm.sources[registered] = source


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

