"""The only place async meets pluggy: call every implementation, or the first that answers.

pluggy calls implementations synchronously; an ``async def`` implementation
returns a coroutine, which these helpers await. Wrappers and ``firstresult``
are therefore used only on synchronous hooks: `SYNC_HOOKS`, which the code
calls through pluggy without awaiting, so ``async def`` implementations of
them are refused when plugins are registered (`reception.plugins`).
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import pluggy

log = logging.getLogger("reception.hooks")

# Called through pluggy without awaiting: an ``async def`` implementation would answer with a coroutine
SYNC_HOOKS = frozenset({"register_channels", "register_routes", "select_agent", "coverage_check"})


class Refused(ValueError):
    """Raised by a plugin to refuse an action; the message is shown to whoever asked for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _implementations(hook: pluggy.HookCaller) -> list[pluggy.HookImpl]:
    # pluggy's own call order: tryfirst first, trylast last, later registrations before earlier
    return list(reversed(hook.get_hookimpls()))


async def call_all(hook: pluggy.HookCaller, **kwargs: Any) -> list[Any]:
    """Every implementation's result that is not None, in call order."""
    results = []
    for impl in _implementations(hook):
        value = impl.function(*[kwargs[name] for name in impl.argnames])
        if inspect.isawaitable(value):
            value = await value
        if value is not None:
            results.append(value)
    return results


async def first_result(hook: pluggy.HookCaller, **kwargs: Any) -> Any:
    """The first result that is not None, in call order; later implementations are not called."""
    for impl in _implementations(hook):
        value = impl.function(*[kwargs[name] for name in impl.argnames])
        if inspect.isawaitable(value):
            value = await value
        if value is not None:
            return value
    return None


async def notify(hook: pluggy.HookCaller, **kwargs: Any) -> None:
    """Call every implementation of an observer hook; a failing plugin is logged, never raised."""
    for impl in _implementations(hook):
        try:
            value = impl.function(*[kwargs[name] for name in impl.argnames])
            if inspect.isawaitable(value):
                await value
        except Exception:
            log.exception("plugin %s failed in %s", impl.plugin_name, hook.name)


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
