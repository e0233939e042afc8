"""The only place async meets pluggy: call every implementation, or the first that answers.

pluggy calls implementations synchronously; an ``async def`` implementation
returns a coroutine, which these helpers await. Wrappers and ``firstresult``
are therefore used only on synchronous hooks.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import pluggy

log = logging.getLogger("reception.hooks")


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
