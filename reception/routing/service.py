"""Routing as a running service, a default plugin: restore the state at start; the watchdog and the pool run
on the instance that holds the lease (`reception.cluster`)."""

from __future__ import annotations

from ..core import Reception
from ..hookspecs import hookimpl
from ..loop import forever
from . import offline, sla


@hookimpl(trylast=True)
async def startup(reception: Reception) -> None:
    router = reception.router
    await reception.cluster.restore(router)
    reception.lead(lambda: forever("reply watchdog", reception.clock, sla.make_step(reception), router.changed),
                   name="reception-watchdog")
    if reception.settings.offline_pool.enabled:
        reception.lead(lambda: forever("offline pool", reception.clock, offline.make_step(reception)),
                       name="reception-offline-pool")
