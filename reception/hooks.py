"""The only place async meets pluggy: call every implementation, or the first that answers.

pluggy calls implementations synchronously; an ``async def`` implementation
returns a coroutine, which these helpers await. Wrappers and ``firstresult``
are therefore used only on synchronous hooks: `SYNC_HOOKS`, which the code
calls through pluggy without awaiting, so ``async def`` implementations of
them are refused when plugins are registered (`reception.plugins`), and
so are wrappers of the hooks called here (`check_wrappers`).

``RECEPTION_TRACE_PLUGINS=1`` in the environment logs every hook call
(logger ``reception.plugins.trace``): the ones made here, one line per
implementation with its answer, and the synchronous ones through pluggy's
own tracing (`trace`).
"""

from __future__ import annotations

import inspect
import logging
import os
from typing import Any, Iterator

import pluggy

log = logging.getLogger("reception.hooks")
trace_log = logging.getLogger("reception.plugins.trace")
TRACE = os.environ.get("RECEPTION_TRACE_PLUGINS", "") not in ("", "0")  # read once, as datasette does

# Called through pluggy without awaiting: an ``async def`` implementation would answer with a coroutine
SYNC_HOOKS = frozenset({"register_channels", "register_routes", "register_skills", "select_agent", "handover_group",
                        "coverage_check"})


class Refused(ValueError):
    """Raised by a plugin to refuse an action; the message is shown to whoever asked for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _implementations(hook: pluggy.HookCaller) -> list[pluggy.HookImpl]:
    # pluggy's own call order: tryfirst first, trylast last, later registrations before earlier
    return list(reversed(hook.get_hookimpls()))


def _call(impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> Any:
    """One implementation's answer: a value, or an awaitable of it (an ``async def`` implementation)."""
    return impl.function(*[kwargs[name] for name in impl.argnames])


def _traced(hook: pluggy.HookCaller, impl: pluggy.HookImpl, value: Any) -> Any:
    if TRACE:
        trace_log.info("%s: %s -> %.300r", hook.name, plugin_label(impl.plugin, impl.plugin_name), value)
    return value


# Each implementation is called, and awaited only when it answers with an awaitable: most answer None at once,
# and an `await` of a helper coroutine per implementation was the largest cost of a hook call (issue 16).

async def call_all(hook: pluggy.HookCaller, **kwargs: Any) -> list[Any]:
    """Every implementation's result that is not None, in call order."""
    results = []
    for impl in _implementations(hook):
        value = _call(impl, kwargs)
        if value is not None and inspect.isawaitable(value):
            value = await value
        if _traced(hook, impl, value) is not None:
            results.append(value)
    return results


async def first_result(hook: pluggy.HookCaller, **kwargs: Any) -> Any:
    """The first result that is not None, in call order; later implementations are not called."""
    for impl in _implementations(hook):
        value = _call(impl, kwargs)
        if value is not None and inspect.isawaitable(value):
            value = await value
        if _traced(hook, impl, value) is not None:
            return value
    return None


async def notify(hook: pluggy.HookCaller, **kwargs: Any) -> None:
    """Call every implementation of an observer hook; a failing plugin is logged, never raised."""
    for impl in _implementations(hook):
        try:
            value = _call(impl, kwargs)
            if value is not None and inspect.isawaitable(value):
                value = await value
            _traced(hook, impl, value)
        except Exception:
            log.exception("plugin %s failed in %s", plugin_label(impl.plugin, impl.plugin_name), hook.name)


def trace(pm: pluggy.PluginManager) -> None:
    """With ``RECEPTION_TRACE_PLUGINS`` set, log the hooks pluggy calls itself (the synchronous ones) too."""
    if TRACE:
        pm.trace.root.setwriter(lambda line: trace_log.info("%s", line.rstrip()))
        pm.enable_tracing()


def check_wrappers(pm: pluggy.PluginManager) -> str | None:
    """Why a registered wrapper cannot work, or None: the hooks called here (all but `SYNC_HOOKS`) run each
    implementation themselves, so pluggy never runs a ``wrapper=True`` / ``hookwrapper=True`` implementation of them.
    """
    for name, caller in sorted(vars(pm.hook).items()):
        if name in SYNC_HOOKS or getattr(caller, "spec", None) is None:
            continue
        for impl in caller.get_hookimpls():
            if impl.wrapper or impl.hookwrapper:
                return (f"plugin {plugin_label(impl.plugin, impl.plugin_name)!r}: hook {name!r} cannot take a wrapper"
                        " (reception calls its implementations one by one); implement it plainly, or use tryfirst")
    return None


def plugin_label(plugin: object, name: str | None) -> str:
    """A plugin's name for people: its registered name, or the module's or class's name for an unnamed object."""
    if name and name != str(id(plugin)):
        return name
    return getattr(plugin, "__name__", None) or type(plugin).__name__


def _culprit(hook: pluggy.HookCaller, exc: BaseException) -> pluggy.HookImpl | None:
    """The implementation whose code raised `exc` (the deepest one in its traceback), or None."""
    codes = {}
    for impl in hook.get_hookimpls():
        for function in (impl.function, inspect.unwrap(impl.function)):
            if (code := getattr(function, "__code__", None)) is not None:
                codes[code] = impl
    found, tb = None, exc.__traceback__
    while tb is not None:
        found = codes.get(tb.tb_frame.f_code, found)
        tb = tb.tb_next
    return found


def first_answer(pm: pluggy.PluginManager, name: str, **kwargs: Any) -> Any:
    """Call the synchronous ``firstresult`` hook `name` through pluggy; a plugin that raises is left out.

    Its failure is logged in one line naming it, and the hook is asked again without
    it, so the next implementations (last of all the default) answer instead.
    """
    hook: pluggy.HookCaller = getattr(pm.hook, name)
    failed: list[object] = []
    while True:
        try:
            return hook(**kwargs)
        except Exception as exc:
            impl = _culprit(hook, exc)
            if impl is None:
                raise
            failed.append(impl.plugin)
            text = " ".join(str(exc).split()) or "(no message)"
            log.warning("plugin %s failed in %s, asking the next implementation: %s: %s",
                        plugin_label(impl.plugin, impl.plugin_name), name, type(exc).__name__, text)
            hook = pm.subset_hook_caller(name, remove_plugins=failed)


def answers(pm: pluggy.PluginManager, name: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
    """Ask the synchronous ``firstresult`` hook `name` one implementation at a time, in call order.

    Yields (plugin label, answer) for each answer that is not None, so the caller
    can refuse one and go on to the next (`reception.routing.select`). Each call
    goes through pluggy (a subset caller holding that one implementation, plus
    any wrappers). An implementation that raises is logged in one line naming it and skipped.
    """
    impls = [impl for impl in _implementations(getattr(pm.hook, name)) if not (impl.wrapper or impl.hookwrapper)]
    for impl in impls:
        caller = pm.subset_hook_caller(name, remove_plugins=[other.plugin for other in impls if other is not impl])
        label = plugin_label(impl.plugin, impl.plugin_name)
        try:
            value = caller(**kwargs)
        except Exception as exc:
            text = " ".join(str(exc).split()) or "(no message)"
            log.warning("plugin %s failed in %s, asking the next implementation: %s: %s",
                        label, name, type(exc).__name__, text)
            continue
        if value is not None:
            yield label, value
