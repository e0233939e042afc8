"""Example plugin: VIP buyers skip the bot and go to the senior team, their own senior agent first.

Load it with ``reception serve --plugins-dir plugins`` and list the buyers in
``reception.toml``::

    [plugin.vip]
    customers = ["buyer-123", "buyer-456"]
    group = "senior"                 # optional: the agent group that serves them
    agents = ["shop:sam"]            # optional: senior agents to try first, in order

It shows what most plugins do: read its own config table (validated with
pydantic at start, so a typo stops the server with the field path), keep
state on the hub under a typed key (``reception.state``), and implement
hooks, each answering None ("no opinion") for the buyers it does not care about:

- `handover_vote` (``tryfirst``, before the bot's own votes): a VIP buyer is
  handed to a human at once, with the reason ``vip``;
- `handover_group`: whatever the reason of the handover (``requested``,
  ``low_confidence`` …), a VIP buyer goes to the senior group;
- `select_agent`: the first of ``agents`` who can take a new buyer; when
  none can, no opinion, and the default rule picks from the senior group.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from reception.plugin import Handover, StateKey, hookimpl, plugin_settings


class VipSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customers: list[str] = []
    group: str | None = None
    agents: list[str] = []


SETTINGS: StateKey[VipSettings] = StateKey("vip")


@hookimpl
def startup(reception):
    reception.state[SETTINGS] = plugin_settings(reception, "vip", VipSettings)


def _is_vip(conversation, reception) -> bool:
    return conversation.customer_id in reception.state[SETTINGS].customers


@hookimpl(tryfirst=True)
def handover_vote(message, conversation, reception):
    if _is_vip(conversation, reception):
        return Handover(reason="vip")  # the group: handover_group below, for this and every other reason
    return None


@hookimpl
def handover_group(conversation, reception):
    if _is_vip(conversation, reception):
        return reception.state[SETTINGS].group
    return None


@hookimpl
def select_agent(conversation, candidates, reception):
    if not _is_vip(conversation, reception):
        return None
    free = {c.agent.id for c in candidates if c.agent.takes_new_buyers}
    return next((agent_id for agent_id in reception.state[SETTINGS].agents if agent_id in free), None)
