"""The wait queue (排队): FIFO per group with priorities, positions and wait estimates."""

from __future__ import annotations

from datetime import datetime
from typing import Iterator, NamedTuple

from sortedcontainers import SortedList

from ..models import Conversation

# (-priority, queued_at as ISO text ("" when missing), conversation id): the serving order
Key = tuple[int, str, str]


class _Entry(NamedTuple):
    conv: Conversation
    key: Key
    group: str | None
    queued_at: datetime | None


class WaitQueue:
    """Queued conversations in serving order: higher priority first, then who came first.

    Every group's line and the whole queue are kept sorted (`SortedList`), so putting, removing,
    the head of a line and a buyer's position cost O(log n) however long the queue is. A
    conversation's place is fixed when it is put: to change its priority, group or `queued_at`,
    remove it and put it again (the router's moves do).
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._all: SortedList = SortedList()
        self._lines: dict[str | None, SortedList] = {}
        self._times: SortedList = SortedList()  # queued_at of every entry that has one

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, conversation_id: str) -> bool:
        return conversation_id in self._entries

    def put(self, conv: Conversation) -> None:
        self.remove(conv.id)
        key = self._order(conv)
        self._entries[conv.id] = _Entry(conv, key, conv.group, conv.queued_at)
        self._all.add(key)
        self._lines.setdefault(conv.group, SortedList()).add(key)
        if conv.queued_at is not None:
            self._times.add(conv.queued_at)

    def remove(self, conversation_id: str) -> None:
        entry = self._entries.pop(conversation_id, None)
        if entry is None:
            return
        self._all.remove(entry.key)
        line = self._lines[entry.group]
        line.remove(entry.key)
        if not line:
            del self._lines[entry.group]
        if entry.queued_at is not None:
            self._times.remove(entry.queued_at)

    @staticmethod
    def _order(conv: Conversation) -> Key:
        return (-conv.priority, conv.queued_at.isoformat() if conv.queued_at else "", conv.id)

    def _line(self, group: str | None, all_groups: bool) -> SortedList:
        return self._all if all_groups else self._lines.get(group, SortedList())

    def ordered(self, group: str | None = None, all_groups: bool = False) -> list[Conversation]:
        """Serving order; one group's line (None: the line of buyers with no group), or everyone. O(n):
        for listing the queue; the router's decisions use `head`, `first`, `serving` and `position`."""
        return [self._entries[key[2]].conv for key in self._line(group, all_groups)]

    def head(self, group: str | None = None, all_groups: bool = False) -> Conversation | None:
        """The next buyer served in the line (or in the whole queue), or None when it is empty."""
        line = self._line(group, all_groups)
        return self._entries[line[0][2]].conv if line else None

    def first(self, count: int, group: str | None = None) -> list[Conversation]:
        """The first `count` buyers of a group's line, in serving order."""
        return [self._entries[key[2]].conv for key in self._line(group, False).islice(0, max(0, count))]

    def serving(self, group: str | None = None, all_groups: bool = False) -> Iterator[Conversation]:
        """The line in serving order, read lazily: each step finds the buyer after the last one handed
        out (O(log n)), so the caller may take buyers out of the queue while it walks."""
        line = self._line(group, all_groups)
        after: Key | None = None
        while True:
            index = 0 if after is None else line.bisect_right(after)
            if index >= len(line):
                return
            after = line[index]
            yield self._entries[after[2]].conv

    def groups(self) -> list[str | None]:
        """The groups with someone waiting, in the order of their first buyer in the whole queue."""
        return sorted(self._lines, key=lambda group: self._lines[group][0])

    def len_group(self, group: str | None) -> int:
        """How many buyers wait in a group's line."""
        line = self._lines.get(group)
        return len(line) if line else 0

    def latest_queued_at(self) -> datetime | None:
        """The latest `queued_at` of anyone in the queue."""
        return self._times[-1] if self._times else None

    def position(self, conv: Conversation) -> int:
        """1 for the next buyer served in this conversation's line; 0 when it is not queued."""
        entry = self._entries.get(conv.id)
        if entry is None:
            return 0
        return self._lines[entry.group].bisect_left(entry.key) + 1


def estimate_wait(position: int, service_seconds: float, serving_agents: int) -> float:
    """Seconds until a buyer at `position` is served, if each of `serving_agents` frees a slot every
    `service_seconds` on average."""
    return position * service_seconds / max(1, serving_agents)
