"""`create_app`: the application factory that wires settings, plugins, store and clock together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from aiohttp import web

from . import delivery, pipeline
from .channels.base import Channel
from .clock import Clock, RealClock
from .cluster import Local
from .config import Settings
from .core import RECEPTION, Reception
from .hooks import call_all
from .http import errors, remember_prepared
from .logs import request_ids, send_request_id
from .openapi import OPERATIONS, Routes
from .plugins import make_plugin_manager
from .routing.router import Router
from .store import make_store

if TYPE_CHECKING:
    from .store.pgcluster import PgCluster

MAX_BODY = 256 * 1024  # bytes; a larger request is refused with 413 before it is read


def create_app(settings: Settings, plugins: Iterable[Any] = (), clock: Clock | None = None) -> web.Application:
    """A ready-to-run aiohttp application for one shop.

    `plugins` are registered after the defaults and installed plugins, so they
    run before them; `clock` defaults to the wall clock.
    """
    pm = make_plugin_manager(plugins, settings.plugins_dir, settings.plugins.disabled)
    store = make_store(settings.store)
    cluster: Local | PgCluster = Local()
    if store.kind == "postgresql":  # any number of instances may share the database
        from .store.pgcluster import PgCluster

        cluster = PgCluster(store, settings.store.pool_size)
    reception = Reception(settings, pm, store, clock or RealClock(), pipeline.receive, cluster)
    reception.router = Router(reception)
    app = web.Application(middlewares=[request_ids, errors], client_max_size=MAX_BODY)
    app.on_response_prepare.append(remember_prepared)
    app.on_response_prepare.append(send_request_id)
    app[RECEPTION] = reception
    app[OPERATIONS] = []

    def register(channel_class: type[Channel]) -> None:
        reception.register_channel(channel_class(reception))

    pm.hook.register_channels(register=register)
    pm.hook.register_skills(register=reception.register_skill)
    route = Routes(app)
    for channel in reception.channels.values():
        channel.routes(route)
    pm.hook.register_routes(route=route, reception=reception)
    app.on_startup.append(_start)
    app.on_shutdown.append(_closing)
    app.on_cleanup.append(_stop)
    return app


async def _start(app: web.Application) -> None:
    reception = app[RECEPTION]
    await reception.store.open()
    for channel in reception.channels.values():
        await channel.start()
    await call_all(reception.hook.startup, reception=reception)
    reception.lead(lambda: delivery.run(reception), name="reception-delivery")
    await reception.cluster.start(reception)  # background work starts here, or on the lease holder


async def _closing(app: web.Application) -> None:
    # on_shutdown: no new connections; plugins close long-lived ones (WebSockets) so requests can finish
    reception = app[RECEPTION]
    for channel in reception.channels.values():
        await channel.stop()
    await call_all(reception.hook.shutdown, reception=reception)


async def _stop(app: web.Application) -> None:
    # on_cleanup runs after every request in flight has finished, so nothing accepted is lost
    reception = app[RECEPTION]
    await reception.stop_tasks()
    await reception.cluster.stop()
    for channel in reception.channels.values():
        await channel.close()
    await reception.store.close()
