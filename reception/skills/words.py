"""How a buyer says yes, no, "leave it" or "a person, please" inside a skill's flow, and in which language.

Each is matched against the whole normalised message (`reception.faq.text.normalize`),
so "取消" leaves a flow while "我要取消订单" starts the cancellation skill.
"""

from __future__ import annotations

import re
from typing import Any

from ..faq.text import has_cjk
from ..handover import is_angry
from ..human_request import human_request_kind

_LEAVE_ZH = re.compile(r"(?:那|那就|还是|先)?(?:取消|算了|不用了?|不改了|不换了|不需要了?|没事了?|不弄了)+"
                       r"(?:吧|了|啦|哈|呀|谢谢|哦)*")
_LEAVE_EN = re.compile(r"(?:ok |okay |oh )?(?:cancel|never ?mind|forget it|no thanks|no thank you|leave it|stop|"
                       r"don t bother)(?: then| thanks| thank you| please)*")
_YES_ZH = re.compile(r"(?:是的?|对的?|确认|确定|好的?|可以|嗯+|恩+|没错|没问题|行|就这个|就这样|就这么改)+"
                     r"(?:修改|取消|改吧|改|换|吧|的|啊|呀|了|啦|哈|谢谢)*")
_YES_EN = frozenset("yes yeah yep yup y sure ok okay confirm confirmed correct right go".split())
_NO_ZH = re.compile(r"(?:不是|不对|不行|错了|不正确|有误|写错了|不要这个)+(?:的|啊|呀|了|啦)*")
_NO_EN = frozenset("no nope nah wrong incorrect".split())
_EN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![A-Za-z0-9])")
_NOT_WORDS = frozenset({"ok", "xs", "xl", "xxl", "xxxl", "cm"})  # letters a Chinese-speaking buyer types too


def is_leave(norm: str) -> bool:
    """取消 / 算了 / 不用了 / cancel / never mind … as the whole message."""
    return bool(_LEAVE_ZH.fullmatch(norm.replace(" ", "")) or _LEAVE_EN.fullmatch(norm))


def is_yes(norm: str) -> bool:
    """是 / 确认 / 好的 / yes / ok … : the buyer confirms."""
    words = norm.split()
    if _YES_ZH.fullmatch(norm.replace(" ", "")):
        return True
    return bool(words) and len(words) <= 6 and words[0] in _YES_EN and not {"not", "no", "don"} & set(words)


def is_no(norm: str) -> bool:
    """不是 / 不对 / no / wrong … : the read-back was wrong (leaving is `is_leave`)."""
    words = norm.split()
    return bool(_NO_ZH.fullmatch(norm.replace(" ", ""))) or (bool(words) and len(words) <= 6 and words[0] in _NO_EN)


def wants_human(text: str) -> bool:
    """The buyer asks for a person or is upset: the handover votes take it from here."""
    return human_request_kind(text) is not None or is_angry(text)


def flow_language(text: str, state: dict[str, Any] | None, fallback: str) -> str:
    """Chinese with Chinese text, English with English words, else the language the flow started in."""
    if has_cjk(text):
        return "zh"
    if any(w.casefold() not in _NOT_WORDS for w in _EN_WORD.findall(text)):
        return "en"
    return (state or {}).get("lang") or fallback
