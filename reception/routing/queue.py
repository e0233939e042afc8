"""The wait queue (排队): FIFO per group with priorities, positions and wait estimates."""

from __future__ import annotations

from ..models import Conversation


class WaitQueue:
    """Queued conversations in serving order: higher priority first, then who came first."""

    def __init__(self) -> None:
        self._entries: dict[str, Conversation] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, conversation_id: str) -> bool:
        return conversation_id in self._entries

    def put(self, conv: Conversation) -> None:
        self._entries[conv.id] = conv

    def remove(self, conversation_id: str) -> None:
        self._entries.pop(conversation_id, None)

    @staticmethod
    def _order(conv: Conversation) -> tuple[int, str, str]:
        return (-conv.priority, conv.queued_at.isoformat() if conv.queued_at else "", conv.id)

    def ordered(self, group: str | None = None, all_groups: bool = False) -> list[Conversation]:
        """Serving order; one group's line (None: the line of buyers with no group), or everyone."""
        entries = self._entries.values()
        if not all_groups:
            entries = [c for c in entries if c.group == group]
        return sorted(entries, key=self._order)

    def position(self, conv: Conversation) -> int:
        """1 for the next buyer served in this conversation's line."""
        line = self.ordered(conv.group)
        return next((i + 1 for i, c in enumerate(line) if c.id == conv.id), 0)


def estimate_wait(position: int, service_seconds: float, serving_agents: int) -> float:
    """Seconds until a buyer at `position` is served, if each of `serving_agents` frees a slot every
    `service_seconds` on average."""
    return position * service_seconds / max(1, serving_agents)
