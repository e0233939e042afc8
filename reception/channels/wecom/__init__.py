"""WeCom customer service (企业微信 · 微信客服) as a channel, a default plugin that is off until configured.

With a ``[plugin.wecom]`` table (see docs/wecom.md) it adds the callback
URL ``/api/v1/wecom/callback``: GET answers WeCom's URL check, POST takes
its encrypted events and pulls the new messages (`channel.WecomChannel`).
Without the table it adds nothing and sends nothing. It is written only
against the public plugin API (`reception.plugin`), as any plugin would be.
"""

from __future__ import annotations

from typing import Any

from reception.plugin import hookimpl

from .channel import PATH, WecomChannel
from .config import NAME, WecomSettings

__all__ = ["NAME", "PATH", "WecomChannel", "WecomSettings"]


@hookimpl
def register_channels(register: Any) -> None:
    register(WecomChannel)
