"""The development datasets, read at run time from ``shared/datasets`` (the Chinese sets are research
only and are never copied): each becomes a `Corpus` of FAQ phrasings per intent and a message pool."""

from __future__ import annotations

import csv
import json
import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

DEFAULT_DATASETS = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets"
HUMAN = "<human>"
OOS = "<oos>"


@dataclass
class Corpus:
    """A dataset ready for the protocol: FAQ phrasings per intent and the message pool."""

    name: str
    lang: str
    train: dict[str, list[str]]  # intent → phrasings for the FAQ, in a fixed shuffled order
    test: list[tuple[str, str]]  # (message, label); label is an intent, HUMAN or OOS
    ks: tuple[int, ...] = (5, 10)
    diagnostic: bool = False  # reported, but not held to the targets


def _rng(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}:{name}")


def _split_rows(name: str, lang: str, rows: Iterable[tuple[str, str]], seed: int) -> Corpus:
    """Split one labelled file per intent: up to 10 phrasings (<= ~70%) train the FAQ, the rest are messages."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for text, label in rows:
        if text.strip():
            by_label[label].append(text.strip())
    rng = _rng(seed, name + ":split")
    train: dict[str, list[str]] = {}
    test: list[tuple[str, str]] = []
    for label in sorted(by_label):
        texts = list(dict.fromkeys(by_label[label]))
        rng.shuffle(texts)
        if label in (HUMAN, OOS):
            test += [(t, label) for t in texts]
            continue
        n_train = min(10, len(texts) - max(1, round(0.3 * len(texts))))
        if n_train > 0:
            train[label] = texts[:n_train]
        test += [(t, label) for t in texts[max(0, n_train):]]
    return Corpus(name, lang, train, test)


def load_clinc(root: Path, seed: int) -> Corpus:
    data = json.loads((root / "clinc150" / "data.json").read_text(encoding="utf-8"))
    rng = _rng(seed, "clinc150:split")
    train: dict[str, list[str]] = defaultdict(list)
    for text, intent in data["train"]:
        train[intent].append(text)
    for texts in train.values():
        rng.shuffle(texts)
    test = [(t, i) for t, i in data["val"]] + [(t, OOS) for t, _ in data["oos_val"] + data["oos_train"]]
    return Corpus("clinc150", "en", dict(train), test)


def load_banking(root: Path, seed: int) -> Corpus:
    with open(root / "banking77" / "train.csv", encoding="utf-8", newline="") as fh:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(fh)]
    return _split_rows("banking77", "en", rows, seed)


def load_bitext(root: Path, seed: int) -> Corpus:
    path = root / "bitext_customer_support" / "bitext_sample_8k_utterances.csv"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = [(r["utterance"], HUMAN if r["intent"] == "contact_human_agent" else r["intent"])
                for r in csv.DictReader(fh)]
    return _split_rows("bitext", "en", rows, seed)


def hint3_rows(root: Path, shop: str) -> list[tuple[str, str]]:
    with open(root / "hint3" / "v2" / "train" / f"{shop}_train.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh)][1:]
    labels = {"CHAT_WITH_AGENT": HUMAN, "CHAT_WITH_AN_AGENT": HUMAN, "NO_NODES_DETECTED": OOS}
    return [(r[0], labels.get(r[1], r[1])) for r in rows if len(r) >= 2 and r[0].strip()]


def load_hint3(root: Path, seed: int, shop: str) -> Corpus:
    return _split_rows(f"hint3-{shop}", "en", hint3_rows(root, shop), seed)


_MASKS = {"订单编号": "81234567890", "数字": "3", "姓名": "小王", "地址": "北京市朝阳区", "电话": "13800138000",
          "金额": "199元", "日期": "6月18日", "时间": "10点", "站点": "朝阳站"}


def _unmask(text: str) -> str:
    return re.sub(r"\[([^\]]*)\]", lambda m: _MASKS.get(m.group(1), ""), text).strip()


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"[^\w]|_", "", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _user_turns(dialogue: str) -> list[str]:
    turns = []
    for turn in dialogue.split("[SEP][CLS]"):
        if turn.startswith(("用户:", "商家:")):
            text = turn[3:].strip()
            if not text.startswith("咨询订单号") and len(re.sub(r"\[[^\]]*\]", "", text)) >= 3:
                turns.append(text)
    return turns


def _summary_user_part(summary: str) -> str:
    parts = [p for p in re.split("[。！？]", summary) if p and not p.startswith("客服")]
    return re.sub(r"^(用户|商家)(询问|咨询|表示|反映|想|希望|要求|提出)?", "", parts[0] if parts else "")


def csds_rows(root: Path, min_overlap: float = 1.0, distinct: float = 1.5) -> list[tuple[str, str]]:
    """One buyer message per CSDS segment: the turn that best overlaps the user half of the segment summary.

    Segments of one dialogue share its turns, so a turn goes to at most one
    segment (best overlap first); a segment whose best overlap is weak is
    dropped, and a text found under two topics is dropped altogether.
    """
    segments = json.loads((root / "csds_topic_zh" / "val.json").read_text(encoding="utf-8"))
    by_dialogue: dict[str, list[dict]] = defaultdict(list)
    for seg in segments:
        by_dialogue[seg["Dialogue"]].append(seg)
    rows = []
    for dialogue, segs in by_dialogue.items():
        turns = _user_turns(dialogue)
        grams = [_bigrams(t) for t in turns]
        targets = [_bigrams(_summary_user_part(seg["QASumm"])) for seg in segs]
        score = {(s, t): len(g & target) / math.sqrt(len(g)) for s, target in enumerate(targets)
                 for t, g in enumerate(grams) if g}
        pairs = sorted(((v, s, t) for (s, t), v in score.items()), key=lambda p: (-p[0], p[1], p[2]))
        used_s, used_t = set(), set()
        for value, s, t in pairs:
            rival = max((score[o, t] for o in range(len(segs)) if o != s and segs[o]["Topic"] != segs[s]["Topic"]),
                        default=0.0)
            if value < min_overlap or value < distinct * rival or s in used_s or t in used_t:
                continue
            used_s.add(s)
            used_t.add(t)
            topic = segs[s]["Topic"]
            rows.append((_unmask(turns[t]), HUMAN if topic == "联系客服" else topic))
    labels: dict[str, set[str]] = defaultdict(set)
    for text, label in rows:
        labels[text].add(label)
    return [(text, label) for text, label in rows if text and len(labels[text]) == 1]


def afqmc_pairs(root: Path) -> list[tuple[str, str, str]]:
    out = []
    for line in (root / "afqmc_zh" / "train.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            out.append((parts[0].strip(), parts[1].strip(), parts[2].strip()))
    return out


AFQMC_HUMAN = "请联系人工客服为我解答"


def afqmc_human(root: Path) -> list[str]:
    """Label-1 paraphrases of the canonical 请联系人工客服为我解答 (label-0 pairs are left aside)."""
    return sorted({b if a == AFQMC_HUMAN else a for a, b, label in afqmc_pairs(root)
                   if label == "1" and AFQMC_HUMAN in (a, b) and a != b})


def smp_rows(root: Path) -> list[tuple[str, str]]:
    lines = (root / "smp2017_ecdt_zh" / "data.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [tuple(line.split("\t")[:2]) for line in lines if "\t" in line]  # type: ignore[misc]


def load_csds(root: Path, seed: int, n_smp: int = 300) -> Corpus:
    corpus = _split_rows("csds+smp", "zh", csds_rows(root), seed)
    smp = [text for text, _ in smp_rows(root)]
    _rng(seed, "smp").shuffle(smp)
    corpus.test += [(t, OOS) for t in smp[:n_smp]] + [(t, HUMAN) for t in afqmc_human(root)]
    return corpus


def load_afqmc_para(root: Path, seed: int, n_pairs: int = 1000) -> Corpus:
    pairs = [p for p in afqmc_pairs(root) if p[0] != p[1] and AFQMC_HUMAN not in p[:2]]
    rng = _rng(seed, "afqmc-para")
    rng.shuffle(pairs)
    train: dict[str, list[str]] = {}
    test: list[tuple[str, str]] = []
    seen: set[str] = set()
    for a, b, label in pairs:
        if a in seen or b in seen:
            continue
        seen.update((a, b))
        intent = f"q{len(train)}"
        train[intent] = [a]
        test.append((b, intent if label == "1" else OOS))
        if len(train) >= n_pairs:
            break
    return Corpus("afqmc-para", "zh", train, test, ks=(1,), diagnostic=True)


LOADERS: dict[str, Callable[[Path, int], Corpus]] = {
    "clinc150": load_clinc,
    "banking77": load_banking,
    "bitext": load_bitext,
    "hint3-curekart": lambda root, seed: load_hint3(root, seed, "curekart"),
    "hint3-powerplay11": lambda root, seed: load_hint3(root, seed, "powerplay11"),
    "hint3-sofmattress": lambda root, seed: load_hint3(root, seed, "sofmattress"),
    "csds+smp": load_csds,
    "afqmc-para": load_afqmc_para,
}


def load_corpora(root: Path, seed: int, names: Sequence[str] | None = None) -> list[Corpus]:
    return [LOADERS[name](root, seed) for name in (names or LOADERS)]
