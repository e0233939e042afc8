"""Agents as the router sees them: configuration, live state (online / suspended / offline) and load."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ..config import Settings

AgentStatus = Literal["online", "suspended", "offline"]
STATUSES: tuple[AgentStatus, ...] = ("online", "suspended", "offline")


@dataclass
class AgentState:
    """One agent: who they are, whether they take buyers, and whom they serve now."""

    id: str
    name: str
    groups: frozenset[str]
    max_concurrent: int
    token_digest: str
    welcome: str | None = None
    status: AgentStatus = "offline"
    status_at: datetime | None = None
    last_assigned_at: datetime | None = None
    conversations: dict[str, None] = field(default_factory=dict)  # ids in assignment order

    @property
    def load(self) -> int:
        return len(self.conversations)

    @property
    def has_room(self) -> bool:
        return self.load < self.max_concurrent

    @property
    def takes_new_buyers(self) -> bool:
        """Online, not suspended, below the maximum."""
        return self.status == "online" and self.has_room

    def serves(self, group: str | None) -> bool:
        """In `group` (no group: every agent is eligible)."""
        return group is None or group in self.groups

    def view(self) -> dict[str, object]:
        """The agent as the API shows it."""
        return {"id": self.id, "name": self.name, "groups": sorted(self.groups), "status": self.status,
                "status_at": self.status_at.isoformat() if self.status_at else None,
                "load": self.load, "max_concurrent": self.max_concurrent}


class AgentBook:
    """Every configured agent by id, with their live state."""

    def __init__(self, settings: Settings) -> None:
        self.agents: dict[str, AgentState] = {
            a.id: AgentState(id=a.id, name=a.name or a.id.split(":", 1)[1], groups=frozenset(a.groups),
                             max_concurrent=a.max_concurrent, token_digest=a.token, welcome=a.welcome)
            for a in settings.agents
        }

    def get(self, agent_id: str) -> AgentState | None:
        return self.agents.get(agent_id)

    def digests(self) -> dict[str, str]:
        """Token digest per agent id, for authentication."""
        return {agent.id: agent.token_digest for agent in self.agents.values()}

    def in_group(self, group: str | None) -> list[AgentState]:
        return [a for a in self.agents.values() if a.serves(group)]

    def online(self, group: str | None = None) -> list[AgentState]:
        """Online and not suspended, in `group`."""
        return [a for a in self.in_group(group) if a.status == "online"]
