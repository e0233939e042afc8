"""Printed reports: the result rows, human-request detection and the match time over a large FAQ."""

from __future__ import annotations

import csv
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from ...human_request import is_human_request
from ..calibrate import calibrate
from ..loader import FaqEntry
from ..matcher import FaqMatcher
from .datasets import AFQMC_HUMAN, HUMAN, afqmc_human, afqmc_pairs, csds_rows, smp_rows
from .protocol import Tally


def _pct(x: float | None) -> str:
    return "    -" if x is None else f"{100 * x:5.1f}"


HEADER = (f"{'dataset':<18}{'k':>3}{'n':>6}  {'system':<10}{'right%':>7}{'wrong%':>7}{'hand%':>7}"
          f"{'wrong/ans':>10}{'req-rec%':>9}{'µs/msg':>8}  notes")


def format_row(key: tuple[str, int] | None, system: str, t: Tally) -> str:
    """One system's outcome shares and notes, after the dataset, k and n (`key`: dataset and k; None for the
    second system of a dataset and k on)."""
    head = f"{key[0]:<18}{key[1]:>3}{t.n:>6}" if key else " " * 27
    if t.threshold is None:
        note = "".join(f"thr {lang} {value:.2f}, " for lang, value in sorted(t.calibrated.items()))
        note += ", ".join(f"{reason} {count}" for reason, count in t.reasons.most_common())
    else:
        note = "oracle thr=none" if t.threshold == math.inf else f"oracle thr={t.threshold:.3f}"
    return (f"{head}  {system:<10}{_pct(t.right / t.n):>7}{_pct(t.wrong / t.n):>7}{_pct(t.handover / t.n):>7}"
            f"{_pct(t.wrong_share):>10}{_pct(t.requested_recall):>9}{1e6 * t.seconds / max(1, t.n):>8.0f}  {note}")


def human_request_sets(root: Path) -> dict[str, tuple[list[str], list[tuple[str, str]]]]:
    """Per set: the human-request messages and the other messages with their label.

    AFQMC: the label-1 paraphrases of 请联系人工客服为我解答 against every other
    sentence of the file. CSDS: the buyer message extracted per segment
    (`csds_rows`), topic 联系客服 against the other topics.
    """
    sets: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}
    with open(root / "bitext_customer_support" / "bitext_sample_8k_utterances.csv", encoding="utf-8-sig") as fh:
        rows = [(r["utterance"], r["intent"]) for r in csv.DictReader(fh)]
    sets["bitext contact_human_agent"] = ([t for t, i in rows if i == "contact_human_agent"],
                                          [(t, i) for t, i in rows if i != "contact_human_agent"])
    for shop in ("curekart", "powerplay11", "sofmattress"):
        with open(root / "hint3" / "v2" / "train" / f"{shop}_train.csv", encoding="utf-8", newline="") as fh:
            raw = [(r[0], r[1]) for r in list(csv.reader(fh))[1:] if len(r) >= 2]
        sets[f"hint3 {shop} agent"] = ([t for t, i in raw if "AGENT" in i],
                                       [(t, i) for t, i in raw if "AGENT" not in i])
    human_zh = afqmc_human(root)
    others = sorted({s for a, b, _ in afqmc_pairs(root) for s in (a, b)} - set(human_zh) - {AFQMC_HUMAN})
    sets["afqmc 人工 paraphrases"] = (human_zh, [(t, "other") for t in others])
    rows_c = csds_rows(root)
    sets["csds 联系客服"] = ([t for t, i in rows_c if i == HUMAN], [(t, i) for t, i in rows_c if i != HUMAN])
    data = json.loads((root / "clinc150" / "data.json").read_text(encoding="utf-8"))
    sets["clinc150 (no requests)"] = ([], [(t, i) for t, i in data["val"] + data["oos_val"]])
    sets["smp2017 (no requests)"] = ([], [(t, i) for t, i in smp_rows(root)])
    return sets


def human_request_report(root: Path, out=sys.stdout) -> dict[str, float]:
    """Recall of `is_human_request` on each human-request set and its false-positive rate on the other messages."""
    print(f"\nHuman-request detection (is_human_request)\n{'set':<28}{'recall':>14}{'false positives':>20}"
          f"  (top labels of the false positives)", file=out)
    result = {}
    for name, (pos, neg) in human_request_sets(root).items():
        hit = sum(map(is_human_request, pos))
        fp = Counter(label for text, label in neg if is_human_request(text))
        n_fp = sum(fp.values())
        rec = f"{hit}/{len(pos)} {100 * hit / len(pos):5.1f}%" if pos else "-"
        top = ", ".join(f"{label} {count}" for label, count in fp.most_common(3))
        print(f"{name:<28}{rec:>14}{f'{n_fp}/{len(neg)} {100 * n_fp / max(1, len(neg)):5.2f}%':>20}  {top}", file=out)
        result[name] = hit / len(pos) if pos else math.nan
    return result


def timing_faq(root: Path, n_questions: int = 10_000) -> tuple[list[FaqEntry], list[str]]:
    """A large FAQ for timing (half clinc150 English, half AFQMC Chinese sentences, ten to an entry) and
    2,000 messages it does not hold (1,000 of each language)."""
    data = json.loads((root / "clinc150" / "data.json").read_text(encoding="utf-8"))
    english = [t for t, _ in data["train"]]
    chinese = sorted({s for a, b, _ in afqmc_pairs(root) for s in (a, b)})
    rng = random.Random(0)
    rng.shuffle(english)
    rng.shuffle(chinese)
    half = n_questions // 2
    questions = english[:half] + chinese[:half]
    entries = [FaqEntry(id=f"e{i}", questions=questions[i * 10 : i * 10 + 10], answer="-")
               for i in range(len(questions) // 10)]
    return entries, [t for t, _ in data["val"][:1000]] + chinese[half : half + 1000]


def timing_report(root: Path, n_questions: int = 10_000, out=sys.stdout) -> float:
    """µs per match over a 10,000-question FAQ (`timing_faq`)."""
    entries, queries = timing_faq(root, n_questions)
    questions = [q for e in entries for q in e.questions]
    start = time.perf_counter()
    matcher = FaqMatcher(entries)
    build = time.perf_counter() - start
    start = time.perf_counter()
    calibration = calibrate(entries, matcher, 0.05)
    calibrating = time.perf_counter() - start
    times = []
    for q in queries:
        start = time.perf_counter()
        matcher.match(q)
        times.append(time.perf_counter() - start)
    en, zh = times[:1000], times[1000:]
    us = lambda xs: 1e6 * statistics.mean(xs)  # noqa: E731
    p99 = lambda xs: 1e6 * sorted(xs)[int(0.99 * len(xs))]  # noqa: E731
    print(f"\nMatch time over a {len(questions)}-question FAQ ({len(entries)} entries, built in {build:.1f}s, "
          f"calibrated in {calibrating:.1f}s from {len(calibration.samples)} matches): "
          f"{us(times):.0f} µs/match (en {us(en):.0f}, zh {us(zh):.0f}; p99 en {p99(en):.0f}, zh {p99(zh):.0f})",
          file=out)
    return us(times)
