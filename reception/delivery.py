"""The delivery loop: pushes outbox messages to their channels, retrying with back-off.

The outbox lives in the store, so a message accepted for delivery survives a
restart and is delivered after it. Retries wait 2, 4, 8 … seconds (at most an
hour) on the reception's clock, or what the channel's `Channel.retry_after` says;
after the channel's last attempt (`Channel.max_attempts`, by default ``[webhook]
callback_max_attempts``) the message stays readable through the API and a
``callback.failed`` event records it.
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

GAVE_UP = timedelta(days=36500)  # due date of a delivery no longer tried


async def _deliver_one(reception: Reception, item: Delivery) -> None:
    channel = reception.channels.get(item.channel)
    now = reception.clock.now()
    tx = reception.store.transaction()
    if channel is None:
        tx.delivery_retry(item.id, item.attempts, now + GAVE_UP, f"unknown channel {item.channel}")
        await reception.commit(tx)
        return
    try:
        await channel.deliver(item.payload)
    except Exception as exc:  # DeliveryFailed, or a bug in a plugin channel: retry either way
        if not isinstance(exc, DeliveryFailed):
            log.exception("channel %s raised while delivering", item.channel)
        attempts = item.attempts + 1
        max_attempts = channel.max_attempts or reception.settings.webhook.callback_max_attempts
        if attempts >= max_attempts:
            tx.delivery_retry(item.id, attempts, now + GAVE_UP, str(exc))
            tx.add_event(Event.of(ev.CallbackFailed(channel=item.channel, attempts=attempts, error=str(exc)), now,
                                  conversation_id=item.conversation_id))
        else:
            backoff = channel.retry_after(attempts)
            tx.delivery_retry(item.id, attempts, now + timedelta(seconds=backoff), str(exc))
    else:
        tx.delivery_done(item.id, now)
        tx.add_event(Event.of(ev.CallbackDelivered(channel=item.channel, attempts=item.attempts + 1), now,
                              conversation_id=item.conversation_id))
    await reception.commit(tx)


async def step(reception: Reception) -> datetime | None:
    """Deliver what is due now; return when the next delivery falls due."""
    store, clock = reception.store, reception.clock
    for item in await store.due_deliveries(clock.now()):
        await _deliver_one(reception, item)
    return await store.next_delivery_due()


async def run(reception: Reception) -> None:
    """Deliver, then sleep until the next due time or a new message, forever."""
    await forever("delivery", reception.clock, lambda: step(reception), reception.delivery_wakeup)
