"""Text normalisation and language detection shared by the matcher and the handover rules."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Everything that is not a letter, a digit or whitespace becomes a space:
# punctuation in either script must not change a match.
_NOT_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=4096)  # one message's text is normalised by the matcher, each skill and the votes: once
def normalize(text: str) -> str:
    """Return `text` in the form the matcher compares.

    NFKC folds full-width letters, digits and punctuation to half-width
    (``ＡＢＣ１２３？`` → ``abc123?``); then case is folded, punctuation is
    dropped and runs of whitespace become one space.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _NOT_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def has_cjk(text: str) -> bool:
    """True when `text` holds at least one Chinese character."""
    return _CJK.search(text) is not None


_LATIN = re.compile(r"[A-Za-z]")


def language(text: str, default: str = "zh") -> str:
    """The reply language for a buyer's text: ``"zh"`` if it holds Chinese, ``"en"`` if Latin letters,
    else `default` (a bare "2" or "👍" keeps the conversation's language)."""
    if has_cjk(text):
        return "zh"
    return "en" if _LATIN.search(text) else default
