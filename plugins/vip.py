"""Example plugin: VIP buyers skip the bot and go straight to a human.

Load it with ``reception serve --plugins-dir plugins`` and list the buyers in
``reception.toml``::

    [plugin.vip]
    customers = ["buyer-123", "buyer-456"]
    group = "vip_service"      # optional: the agent group that serves them

It shows the three things most plugins do: read its own config table
(validated with pydantic at start, so a typo stops the server with the field
path), implement a hook (`handover_vote`, ``tryfirst`` so it runs before the
bot's own votes), and keep state on the hub (``reception.state``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from reception.plugin import Handover, StateKey, hookimpl, plugin_settings


class VipSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customers: list[str] = []
    group: str | None = None


SETTINGS: StateKey[VipSettings] = StateKey("vip")


@hookimpl
def startup(reception):
    reception.state[SETTINGS] = plugin_settings(reception, "vip", VipSettings)


@hookimpl(tryfirst=True)
def handover_vote(message, conversation, reception):
    settings = reception.state[SETTINGS]
    if conversation.customer_id in settings.customers:
        return Handover(reason="vip", group=settings.group)
    return None
