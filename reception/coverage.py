"""Who answers now: the one coverage rule, a default plugin (`coverage_check`).

The default check closes the humans' door outside the service calendar; the
router adds the capacity reasons (nobody online, everyone suspended, the
queue full, penalty mode with no human free). Whenever the bot takes over,
it tells the buyer why and when humans are back, keeps answering, and leaves
the buyer in the offline pool for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .calendar import Calendar
from .hookspecs import hookimpl
from .models import Conversation
from .state import StateKey

if TYPE_CHECKING:
    from .core import Reception

STATE_KEY: StateKey[Calendar] = StateKey("calendar")


def calendar(reception: "Reception") -> Calendar:
    """The shop's service calendar."""
    cal = reception.state.get(STATE_KEY)
    if cal is None:
        cal = reception.state[STATE_KEY] = Calendar(reception.settings.hours)
    return cal


def takeover_reason(reception: "Reception", conv: Conversation, now: datetime) -> str | None:
    """Why the bot, not the humans, must take this buyer now (plugins first, then the calendar), or None."""
    return reception.hook.coverage_check(conversation=conv, now=now, reception=reception)


@hookimpl(trylast=True)
def coverage_check(conversation: Conversation, now: datetime, reception: "Reception") -> str | None:
    if not calendar(reception).is_open(now, conversation.group):
        return "outside_hours"
    return None
