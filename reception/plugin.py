"""The plugin API in one import: everything a plugin may use, documented in ``docs/plugins.md``.

    from reception.plugin import hookimpl, Reception, Channel, Inbound, ...

What is not exported here (or from `reception` itself) is internal and may
change between versions.
"""

from __future__ import annotations

from typing import TypeVar

from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ValidationError

from . import events
from .channels.base import Channel, DeliveryFailed
from .config import ConfigError, describe_errors
from .core import RECEPTION, Reception
from .hooks import Refused
from .hookspecs import hookimpl
from .http import ApiError, json_response, read_body, require_admin
from .metrics.api import instruments
from .models import BotAnswer, Card, Conversation, Handover, Inbound, Message, Outcome, Reply
from .openapi import Query, RouteClash, Routes
from .routing.agents import AgentState
from .routing.select import Candidate
from .skills.flow import Skill, Turn as SkillTurn
from .state import StateKey

M = TypeVar("M", bound=BaseModel)


def plugin_settings(reception: Reception, name: str, model: type[M]) -> M:
    """The shop's ``[plugin.NAME]`` table validated by `model`; an error names the field and stops the start.

    An absent table validates as ``{}``, so a model whose fields all have defaults needs no config.
    """
    try:
        return model.model_validate(reception.settings.plugin.get(name, {}))
    except ValidationError as exc:
        raise ConfigError(f"plugin.{name}: {describe_errors(exc)}") from None


async def load_value(reception: Reception, plugin: str, key: str) -> str | None:
    """A small text the plugin `plugin` kept with `save_value` under `key` (a sync cursor …), or None."""
    return await reception.store.value(f"plugin.{plugin}.{key}")


async def save_value(reception: Reception, plugin: str, key: str, value: str) -> None:
    """Keep a small text for the plugin `plugin` under `key` in the shop's database (the ``kv`` table, either
    back-end); durable when this returns, so it survives a restart. Keys are the plugin's own: ``plugin.NAME.KEY``."""
    tx = reception.store.transaction()
    tx.set_value(f"plugin.{plugin}.{key}", value)
    await reception.commit(tx)


def metrics_registry(reception: Reception) -> CollectorRegistry:
    """The shop's Prometheus registry, served on ``GET /metrics``: create a plugin's instruments on it
    (``Counter(..., registry=metrics_registry(reception))``), once, at ``register_routes`` or ``startup``."""
    return instruments(reception).registry


__all__ = [
    "RECEPTION", "AgentState", "ApiError", "BotAnswer", "Candidate", "Card", "Channel", "ConfigError", "Conversation",
    "DeliveryFailed", "Handover", "Inbound", "Message", "Outcome", "Query", "Reception", "Refused", "Reply",
    "StateKey", "events", "hookimpl", "json_response", "load_value", "metrics_registry", "plugin_settings",
    "read_body", "require_admin", "RouteClash", "Routes", "save_value", "Skill", "SkillTurn",
]
