"""The delivery loop: pushes outbox messages to their channels, retrying with back-off.

The outbox lives in the store, so a message accepted for delivery survives a
restart and is delivered after it. Retries wait 2, 4, 8 … seconds (at most an
hour) on the reception's clock; after the channel's last attempt the message
stays readable through the API and a ``callback.failed`` event records it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from . import events as ev
from .channels.base import DeliveryFailed
from .core import Reception
from .events import Event
from .loop import forever
from .store import Delivery

log = logging.getLogger("reception.delivery")

MAX_BACKOFF = 3600.0
GAVE_UP = timedelta(days=36500)  # due date of a delivery no longer tried


async def _deliver_one(reception: Reception, item: Delivery) -> None:
    channel = reception.channels.get(item.channel)
    now = reception.clock.now()
    tx = reception.store.transaction()
    if channel is None:
        tx.delivery_retry(item.id, item.attempts, now + GAVE_UP, f"unknown channel {item.channel}")
        await reception.store.commit(tx)
        return
    try:
        await channel.deliver(item.payload)
    except Exception as exc:  # DeliveryFailed, or a bug in a plugin channel: retry either way
        if not isinstance(exc, DeliveryFailed):
            log.exception("channel %s raised while delivering", item.channel)
        attempts = item.attempts + 1
        max_attempts = reception.settings.webhook.callback_max_attempts
        if attempts >= max_attempts:
            tx.delivery_retry(item.id, attempts, now + GAVE_UP, str(exc))
            tx.add_event(Event(name=ev.CALLBACK_FAILED, at=now, conversation_id=item.conversation_id,
                               data={"channel": item.channel, "attempts": attempts, "error": str(exc)}))
        else:
            backoff = min(MAX_BACKOFF, 2.0 ** attempts)
            tx.delivery_retry(item.id, attempts, now + timedelta(seconds=backoff), str(exc))
    else:
        tx.delivery_done(item.id, now)
        tx.add_event(Event(name=ev.CALLBACK_DELIVERED, at=now, conversation_id=item.conversation_id,
                           data={"channel": item.channel, "attempts": item.attempts + 1}))
    await reception.store.commit(tx)
    await reception.emit(tx.events)


async def step(reception: Reception) -> datetime | None:
    """Deliver what is due now; return when the next delivery falls due."""
    store, clock = reception.store, reception.clock
    for item in await store.due_deliveries(clock.now()):
        await _deliver_one(reception, item)
    return await store.next_delivery_due()


async def run(reception: Reception) -> None:
    """Deliver, then sleep until the next due time or a new message, forever."""
    await forever("delivery", reception.clock, lambda: step(reception), reception.delivery_wakeup)
