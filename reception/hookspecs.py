"""The plugin API: every hook a plugin can implement, with its arguments and return value.

Implement a hook with ``@reception.hookimpl`` on a function of the same name in
a module or object, then register it: as a default plugin, through the
``reception`` entry-point group, from ``--plugins-dir`` or ``create_app(plugins=…)``.
Hooks marked "async ok" may be ``async def``; the others must be synchronous.
A plugin may take only the arguments it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    from datetime import datetime

    from .channels.base import Channel
    from .core import Reception
    from .events import Event
    from .models import BotAnswer, Conversation, Handover, Message
    from .openapi import Routes
    from .orders.models import Order
    from .routing.select import Candidate
    from .skills.flow import Skill

hookspec = pluggy.HookspecMarker("reception")
hookimpl = pluggy.HookimplMarker("reception")


@hookspec
def register_channels(register: "Callable[[type[Channel]], None]") -> None:
    """Sync. Called once at start: call ``register(ChannelClass)`` for each channel adapter.

    The class is instantiated with the `Reception` hub; its ``name`` must be unique.
    A channel receives buyer messages from somewhere (a webhook, a WebSocket,
    a platform's API), hands them to ``reception.receive`` and delivers later
    messages back through ``Channel.deliver``.
    """


@hookspec
def register_skills(register: "Callable[[Skill], None]") -> None:
    """Sync. Called once at start: call ``register(skill)`` for each order skill (a `reception.plugin.Skill`).

    Skills answer before the FAQ bot, from the buyer's real orders (where is my
    parcel, change my address …), in ``priority`` order: a flow in progress
    continues with its own skill; otherwise the first skill whose ``wants``
    is true starts. Names are unique: a second skill with a name already
    registered stops the start.
    """


@hookspec
def register_routes(route: "Routes", reception: "Reception") -> None:
    """Sync. Called once at start: add HTTP routes with ``route(method, path, handler, summary, **described)``.

    `route` (a `reception.plugin.Routes`) puts every endpoint in the OpenAPI
    document (``/api/openapi.json``) with what ``described`` says: ``body``
    (a pydantic model, validated), ``response``, ``auth`` (``"admin"``,
    ``"agent"``, ``"signature"``), ``errors``, ``query``. ``route.page``,
    ``route.static`` and ``route.preflight`` add HTML pages, files and CORS
    preflight answers. A method and path added twice stops the start
    (`RouteClash`). Routes under ``/api/`` answer errors as JSON
    ``{"error": {"code", "message"}}``; raise `reception.plugin.ApiError`.
    """


@hookspec
def startup(reception: "Reception") -> Any:
    """Async ok. Called after the store opens and before the first request; start background work here."""


@hookspec
def shutdown(reception: "Reception") -> Any:
    """Async ok. Called when the server starts stopping, while requests in flight still finish.

    Close long-lived connections (WebSockets) here; the store closes after every request is done.
    """


@hookspec
def bot_answer(message: "Message", conversation: "Conversation", reception: "Reception") -> "BotAnswer | None":
    """Async ok. Propose a bot reply to a buyer's message, or return None.

    Called in order (``tryfirst`` plugins first, the FAQ bot last); the first
    answer that is not None is used. Skills that answer from order data go
    before the FAQ bot. ``BotAnswer.confidence`` (0..1) decides, with the
    handover votes, whether the reply is sent.
    """


@hookspec
def handover_vote(
    message: "Message", conversation: "Conversation", answer: "BotAnswer | None", reception: "Reception"
) -> "Handover | str | None":
    """Async ok. Return a reason to hand this conversation to a human (a `Handover` or its reason), or None.

    Every implementation is asked; the first reason in call order wins and all
    reasons are recorded in the ``handover.requested`` event. The defaults vote
    ``requested`` (the buyer asks for a human), ``low_confidence``,
    ``repeated`` (the same question again) and ``faq_entry`` (an entry marked
    ``handover: true``). When the reason is ``requested`` or the answer is
    unsure, the bot's reply is not sent.
    """


@hookspec
def track_event(event: "Event", reception: "Reception") -> Any:
    """Async ok. Observe every event once it is durably stored (metrics, exports, audit).

    An exception here is logged and does not affect the buyer.
    """


@hookspec
def filter_outbound(message: "Message", reception: "Reception") -> "Message | None":
    """Async ok. Check or rewrite a message a human sends to a buyer before it is stored and delivered.

    Return a changed `Message` to replace it, or None to leave it as is. Raise
    `reception.hooks.Refused` to stop it with a reason shown to the sender.
    """


@hookspec(firstresult=True)
def select_agent(
    conversation: "Conversation", candidates: "list[Candidate]", excluded: "list[str]", reception: "Reception"
) -> str | None:
    """Sync, first result wins. Pick the agent id for a conversation from `candidates`, or None.

    None means "no opinion": the next implementation is asked (last of all the
    default), so a plugin that only cares about some buyers returns None for
    the others. ``candidates`` are the agents of the conversation's group plus
    the buyer's most recent contact (``Candidate.in_group`` false when outside
    the group), each with ``last_contact`` (when that agent last served this
    buyer, or None) and the live ``agent`` state (`AgentState`: ``status``,
    ``load``, ``max_concurrent``, ``has_room``, ``takes_new_buyers``).
    ``excluded`` are the ids of agents left out of this decision, and so not
    among the candidates: the agent a conversation is taken from when it is
    reassigned (SLA, transfer), the agents already full in an offline-pool run.
    The default, registered ``trylast``, implements recent contact first
    (within ``routing.recent_contact_days``; while suspended only within
    ``routing.recent_contact_suspended_hours``; never offline), then the
    least-loaded online agent below their ``max_concurrent``, the longest idle
    first on ties. The router checks every answer: an agent who is not among
    the candidates, offline or saturated is refused in one log line and the
    next implementation is asked, so a buyer is never queued while the default
    would have found a free agent. An implementation that raises is logged in
    one line and left out in the same way.
    """


@hookspec(firstresult=True)
def handover_group(
    conversation: "Conversation", handover: "Handover", order_state: str | None, reception: "Reception"
) -> str | None:
    """Sync, first result wins. The agent group a handed-over buyer goes to, or None for no opinion.

    Asked once per handover, before `select_agent`. ``handover.reason`` says
    why (``requested``, ``low_confidence``, a plugin's own reason …) and
    ``handover.group`` is a group a vote or the FAQ entry asked for, or None;
    ``order_state`` is what `buyer_order_state` answered. The default,
    registered ``trylast``, keeps a group the vote asked for when agents are in
    it, else applies ``[[routing.rules]]`` (the first matching rule), else
    answers None: any agent. An answer that names a group no agent is in is
    refused in one log line and the next implementation is asked.
    """


@hookspec
def buyer_order_state(customer_id: str, channel: str, reception: "Reception") -> str | None:
    """Async ok, first answer wins. The buyer's order state for routing rules.

    One of ``none`` (no order), ``unpaid``, ``unshipped``, ``shipped``,
    ``after_sale``; None when unknown. Rules with ``order_states`` only match
    when an implementation answers. The default (``reception.orders.plugin``,
    ``trylast``) answers from the buyer's most recent stored order: ``paid`` is
    ``unshipped``, ``shipped`` and ``delivered`` are ``shipped``, no order is ``none``.
    """


@hookspec
def order_lookup(customer_id: str, order_id: str | None, reception: "Reception") -> "Order | None":
    """Async ok, first answer wins. The buyer's order `order_id`, or None.

    With ``order_id`` None: the buyer's most recent open order (any status but
    ``delivered``), or None when they have none. An implementation MUST never
    return another buyer's order: when the order exists but its
    ``customer_id`` is not `customer_id`, answer None, exactly as for an
    unknown order, so a buyer cannot probe for other buyers' order numbers.
    The default (``reception.orders.plugin``, ``trylast``) reads the store;
    a plugin that knows the shop platform's API goes first. Callers should use
    ``reception.orders.find_order``, which enforces the rule once more.
    """


@hookspec
def order_update(order: "Order", reception: "Reception") -> "Order | None":
    """Async ok, first answer wins. Store a change to an order (its address, status, tracking …).

    Return the order as stored, or None to let the next implementation do it.
    The default (``reception.orders.plugin``, ``trylast``) writes it to the
    store, stamping ``updated_at`` with the current time when it is None. A
    plugin that syncs the shop platform answers first and may return None to
    have the store keep a copy too. Bulk loads (``reception orders import``,
    ``POST /api/v1/orders``) write to the store directly, in one transaction,
    and do not call this hook.
    """


@hookspec(firstresult=True)
def coverage_check(conversation: "Conversation", now: "datetime", reception: "Reception") -> str | None:
    """Sync, first result wins. A reason the bot must take this buyer now instead of the humans, or None.

    Asked for every new conversation and every handover, before the router
    looks for an agent. The default, registered ``trylast``, answers
    ``outside_hours`` when the service calendar (``[hours]``) is closed for
    the conversation's group. When every check passes, the router still
    takes over with ``nobody_online``, ``all_suspended``, ``queue_full`` or
    (in penalty mode) ``penalty_no_human`` when no human can take the buyer.
    The bot then says so honestly, keeps answering, and leaves the buyer in
    the offline pool.
    """


@hookspec
def alert(alert: "dict[str, Any]", reception: "Reception") -> Any:
    """Async ok. An assessment figure of the previous hour went past its limit.

    ``alert`` holds ``metric``, ``value``, ``limit``, ``direction`` (``below``
    or ``above``), ``date``, ``hour`` and ``requests``. It is already stored as
    an ``alert.raised`` event. The default logs a warning and, with
    ``[alerts] webhook_url``, POSTs the alert there (signed like webhook
    callbacks when ``[webhook] secret`` is set). Failures are logged.
    """
