"""Erlang C: the textbook estimate of agents needed, to check the simulator's advice against.

Each agent is `concurrency` servers (chat slots); a slot is held for the
handling time `aht`. The 2-minute rule is met when the wait in the queue
plus the agent's first answer (exponential, mean `first_reply`) is within
`within` seconds; with an exponential queue wait that probability has a
closed form.
"""

from __future__ import annotations

import math


def waiting_probability(servers: int, load: float) -> float:
    """Erlang C: the chance an arrival has to wait, for `load` erlangs offered to `servers`."""
    if load <= 0:
        return 0.0
    if servers <= load:
        return 1.0
    blocking = 1.0  # Erlang B by recursion, stable for large server counts
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return servers * blocking / (servers - load * (1 - blocking))


def answered_within(servers: int, load: float, aht: float, within: float, first_reply: float) -> float:
    """P(queue wait + first answer <= `within`): queue wait ~ Erlang C, first answer ~ Exp(mean `first_reply`)."""
    if servers <= load:
        return 0.0
    wait = waiting_probability(servers, load)
    mu = 1 / first_reply if first_reply > 0 else math.inf
    theta = (servers - load) / aht  # rate of the queue wait's exponential tail
    direct = 1 - math.exp(-mu * within) if mu != math.inf else 1.0
    if mu == math.inf:
        queued = 1 - math.exp(-theta * within)
    elif abs(mu - theta) < 1e-12:
        queued = 1 - math.exp(-mu * within) * (1 + mu * within)
    else:  # the sum of two exponentials (hypoexponential)
        queued = 1 - (mu * math.exp(-theta * within) - theta * math.exp(-mu * within)) / (mu - theta)
    return (1 - wait) * direct + wait * queued


def agents_needed(requests_per_hour: float, aht: float, concurrency: int, within: float, first_reply: float,
                  target: float, limit: int = 10_000) -> int:
    """The fewest agents whose 2-minute rate reaches `target` (0 when nobody asks)."""
    if requests_per_hour <= 0:
        return 0
    load = requests_per_hour / 3600 * aht
    agents = max(1, math.floor(load / concurrency))
    while agents < limit and answered_within(agents * concurrency, load, aht, within, first_reply) < target:
        agents += 1
    return agents
