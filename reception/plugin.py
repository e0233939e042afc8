"""The plugin API in one import: everything a plugin may use, documented in ``docs/plugins.md``.

    from reception.plugin import hookimpl, Reception, Channel, Inbound, ...

What is not exported here (or from `reception` itself) is internal and may
change between versions.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from . import events
from .channels.base import Channel, DeliveryFailed
from .config import ConfigError, describe_errors
from .core import RECEPTION, Reception
from .hooks import Refused
from .hookspecs import hookimpl
from .models import BotAnswer, Card, Conversation, Handover, Inbound, Message, Outcome, Reply
from .openapi import Query
from .routing.agents import AgentState
from .routing.select import Candidate
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


__all__ = [
    "RECEPTION", "AgentState", "BotAnswer", "Candidate", "Card", "Channel", "ConfigError", "Conversation",
    "DeliveryFailed", "Handover", "Inbound", "Message", "Outcome", "Query", "Reception", "Refused", "Reply",
    "StateKey", "events", "hookimpl", "plugin_settings",
]
