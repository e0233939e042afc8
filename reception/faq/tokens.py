"""Text into matching features: words and stems for Latin text, character uni/bigrams for Chinese.

Shared by the matcher's index and its queries, so a phrasing and a buyer's
message are cut the same way (see `reception.faq.matcher` for how they are used).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from functools import cache, lru_cache
from typing import Sequence

from .text import normalize

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|\d+|[^\s\d{_CJK}]+")
IS_CJK = re.compile(rf"[{_CJK}]")
_APOSTROPHES = [
    (re.compile(r"\b(can)'?t\b"), r"\1 not"), (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"n't\b"), " not"), (re.compile(r"'m\b"), " am"), (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ll\b"), " will"), (re.compile(r"'ve\b"), " have"), (re.compile(r"'d\b"), " would"),
    (re.compile(r"'s\b"), ""),
]
# Chat spellings and contractions written without an apostrophe.
_EXPAND = {
    "u": "you", "ur": "your", "ya": "you", "yr": "your", "r": "are", "pls": "please", "plz": "please",
    "thx": "thanks", "wanna": "want to", "gonna": "going to", "gotta": "got to", "im": "i am",
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "cant": "can not", "cannot": "can not",
    "wont": "will not", "isnt": "is not", "arent": "are not", "wasnt": "was not", "havent": "have not",
    "hasnt": "has not", "couldnt": "could not", "wouldnt": "would not", "shouldnt": "should not",
    "ive": "i have", "id": "i would", "hv": "have", "abt": "about", "msg": "message", "acct": "account",
    "acc": "account", "addr": "address", "amt": "amount", "info": "information", "asap": "soon",
    "centre": "center", "colour": "color", "cancelation": "cancellation", "canceled": "cancelled",
    "canceling": "cancelling", "mail": "email", "ok": "okay",
}
# Words shoppers use for the same thing, folded to one (light synonyms, applied after _EXPAND).
_SYNONYMS_EN = {
    "modify": "change", "edit": "change", "alter": "change", "amend": "change", "update": "change",
    "purchase": "buy", "purchased": "bought", "parcel": "package", "shipment": "package", "pkg": "package",
    "assistance": "help", "assist": "help", "support": "help", "issue": "problem", "trouble": "problem",
    "issues": "problems", "troubles": "problems", "refunded": "refund", "reimburse": "refund",
    "reimbursement": "refund", "cost": "price", "costs": "price", "pricing": "price", "prices": "price",
    "mobile": "phone", "cellphone": "phone", "telephone": "phone", "pwd": "password", "passcode": "password",
    "signup": "register", "registration": "register",
    "cancellation": "cancel", "cancelled": "cancel", "cancelling": "cancel", "quit": "cancel",
    "receive": "get", "received": "got", "obtain": "get", "acquire": "get",
}
STOP_EN = frozenset(
    "a an the i me my mine myself you your yours we our us he she him his her it its they them their "
    "this that these those is am are was were be been being do does did doing have has had of to in on "
    "at by for with from as about into and or but if so than then there here what which who whom whose "
    "when where why how can could would should will shall may might must please hi hello hey thanks "
    "thank just also very really some any all there okay would like know tell".split()
)
# Colloquial Chinese folded to one form before n-grams (A-not-A questions, dialect words).
_FOLD_ZH = [
    ("能不能", "能"), ("可不可以", "可以"), ("是不是", "是"), ("有没有", "有"), ("会不会", "会"),
    ("要不要", "要"), ("行不行", "行"), ("好不好", "好"), ("在不在", "在"), ("能否", "能"),
    ("为啥", "为什么"), ("咋样", "怎么样"), ("咋", "怎么"), ("啥", "什么"), ("神马", "什么"),
    ("如何", "怎么"), ("怎样", "怎么"), ("木有", "没有"), ("没得", "没有"), ("多长时间", "多久"),
    ("多少天", "多久"), ("几天", "多久"), ("退钱", "退款"), ("亲亲", "亲"),
]
_STOP_ZH = frozenset("的了吗呢吧啊呀么哦嘛哈噢喔诶哎嗯我你您他她它们是在有这那个"
                     "一就都也还要想请问下把被给和与及或得地着过亲吖滴")
_NUM = "0"  # every digit run becomes this token
# Words that turn a question into a problem report ("my refund" vs "my refund did not arrive").
_PROBLEM_EN = frozenset("not no never nothing nobody wrong incorrect missing failed fail failing error broken lost "
                        "declined rejected stuck unable".split())
_PROBLEM_ZH = re.compile(r"不|没|未|无法|错|失败|丢|坏")


@cache
def _english() -> frozenset[str]:
    from spellchecker import SpellChecker  # 160,000 words, read once (0.2 s), when the first query needs them

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.keys())


def english_word(word: str) -> bool:
    """Whether `word` (lower case) is in an English dictionary (pyspellchecker's word list): a real word is
    never taken for a misspelling of an FAQ word ("charge" is not "change", "setting" not "getting")."""
    return word in _english()


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing/-ed/-ly/-ment/-ation, final e (``cancelled`` → ``cancel``)."""
    if len(word) <= 3 or not word.isascii():
        return word
    w = word
    if w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and not w.endswith("eed") and re.search(r"[aeiouy]", w[: -len(suffix)]):
            w = w[: -len(suffix)]
            if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "sz":
                w = w[:-1]
            break
    for suffix, repl in (("ation", ""), ("ment", ""), ("ness", ""), ("ly", ""), ("ery", "er"), ("able", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            w = w[: -len(suffix)] + repl
            if len(w) >= 5 and w[-1] == w[-2] and w[-1] not in "sz":
                w = w[:-1]
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def _fold_zh(run: str) -> str:
    for old, new in _FOLD_ZH:
        if old in run:
            run = run.replace(old, new)
    return run


def words(text: str) -> list[str]:
    """Normalised runs of `text`: Chinese runs, expanded Latin words and digit runs."""
    text = text.casefold().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, repl in _APOSTROPHES:
        text = pattern.sub(repl, text)
    out: list[str] = []
    for run in _RUNS.findall(normalize(text)):
        if IS_CJK.match(run):
            out.append(_fold_zh(run))
        elif run[0].isdigit():
            out.append(_NUM)
        else:
            out.extend(_SYNONYMS_EN.get(w, w) for w in _EXPAND.get(run, run).split())
    return out


def has_problem(runs: Sequence[str]) -> bool:
    """True when the words report a problem or a negation (see _PROBLEM_EN / _PROBLEM_ZH)."""
    return any(r in _PROBLEM_EN or (IS_CJK.match(r) and _PROBLEM_ZH.search(r)) for r in runs)


# Feature weights per kind, relative to an English word / Chinese bigram (word bigrams and
# character n-grams of English words were tried and lowered accuracy).
W_UNI_ZH, W_STOP, W_NUM = 0.45, 0.25, 0.3


def features(runs: Sequence[str]) -> dict[str, float]:
    """Feature → multiplier for already split runs (`words`): the raw term frequencies, scaled by kind."""
    feats: dict[str, float] = defaultdict(float)
    for run in runs:
        if run == _NUM:
            feats[_NUM] += W_NUM
        elif IS_CJK.match(run):
            for i, ch in enumerate(run):
                feats[ch] += W_UNI_ZH * (W_STOP if ch in _STOP_ZH else 1.0)
                if i + 1 < len(run):
                    feats[run[i : i + 2]] += 1.0
        else:
            feats["~" + stem(run)] += W_STOP if run in STOP_EN else 1.0
    return feats


# An unseen Chinese bigram (mostly one across a word boundary: 址想 in 地址想换) weighs this share of an unseen
# feature; 0.35-0.6 answered more at the same wrong share than 1.0 on CSDS and on the bundled FAQ left one out.
UNSEEN_BIGRAM_ZH = 0.5


def weighted(tf: dict[str, float], idf: dict[str, float], unseen: float) -> dict[str, float]:
    """Feature counts as a unit-length TF-IDF vector; a feature without an `idf` (one the FAQ never had)
    weighs `unseen` (an unseen Chinese bigram ``UNSEEN_BIGRAM_ZH`` of it)."""
    vec = {f: (1.0 + math.log(1.0 + t)) * (idf[f] if f in idf else
                                          unseen * UNSEEN_BIGRAM_ZH if len(f) == 2 and IS_CJK.match(f) else unseen)
           for f, t in tf.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {f: v / norm for f, v in vec.items()}
