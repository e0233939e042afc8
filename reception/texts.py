"""What the bot and the system say to buyers, in Chinese and English: one place for every such text."""

from __future__ import annotations

_HANDOVER = {
    "requested": {
        "zh": "好的，正在为您转接人工客服，请稍候～",
        "en": "Sure, I'm connecting you to a member of our team. Please hold on a moment.",
    },
    "low_confidence": {
        "zh": "这个问题我还不太确定，已为您转接人工客服，请稍候～",
        "en": "I'm not sure I understood that, so I'm passing you to a member of our team. Please hold on.",
    },
    "repeated": {
        "zh": "看来刚才的回答没能帮到您，已为您转接人工客服，请稍候～",
        "en": "It looks like my answer didn't help, so I'm passing you to a member of our team.",
    },
    "angry": {
        "zh": "非常抱歉给您带来不好的体验，已为您优先转接人工客服，请稍候～",
        "en": "I'm sorry about this. I'm passing you to a member of our team right away.",
    },
    "card": {
        "zh": "收到您发送的卡片，已为您转接人工客服，请稍候～",
        "en": "Thanks for the card. A member of our team will look at it with you shortly.",
    },
}
_DEFAULT = {
    "zh": "已为您转接人工客服，请稍候～",
    "en": "A member of our team will be with you shortly.",
}


def handover_notice(reason: str, lang: str) -> str:
    """The system message that tells the buyer a human is on the way."""
    texts = _HANDOVER.get(reason, _DEFAULT)
    return texts.get(lang) or texts["zh"]
