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
    "image": {
        "zh": "收到您发送的图片，我看不懂图片，已转给人工客服查看，请稍候～",
        "en": "Thanks for the photo. I can't read photos, so I've passed it to a member of our team, who will "
              "look at it shortly.",
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


def _pick(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts["zh"]


def welcome(name: str, lang: str) -> str:
    """The automatic greeting when an agent takes the buyer (a system message: it is not a reply)."""
    return _pick({"zh": f"您好，我是客服{name}，很高兴为您服务，请问有什么可以帮您？",
                  "en": f"Hi, this is {name} from the shop team. How can I help you?"}, lang)


def queued(position: int, minutes: int, lang: str) -> str:
    """Where the buyer stands in the queue."""
    return _pick({"zh": f"当前咨询人数较多，您前面还有 {position - 1} 位，预计等待约 {minutes} 分钟，请稍候～",
                  "en": f"All our agents are busy. You are number {position} in line; the wait is about "
                        f"{minutes} min."}, lang)


def pooled(next_run: str | None, lang: str) -> str:
    """The buyer's message waits in the offline pool for the humans."""
    if next_run:
        return _pick({"zh": f"客服暂时不在线，您的留言已保存，客服上线后会第一时间回复您（最早 {next_run}）。",
                      "en": f"Our agents are offline right now. Your message is saved and an agent will reply "
                            f"as soon as they are back (from {next_run})."}, lang)
    return _pick({"zh": "客服暂时不在线，您的留言已保存，客服上线后会第一时间回复您。",
                  "en": "Our agents are offline right now. Your message is saved and an agent will reply "
                        "as soon as they are back."}, lang)


_TAKEOVER = {
    "outside_hours": ("现在是人工客服休息时间{when_zh}，您的留言已保存，客服上线后会第一时间回复您；在此之前我会继续为您解答。",
                      "Our team is off duty right now{when_en}. Your message is saved and they will reply as soon "
                      "as they are back; until then I'll keep helping where I can."),
    "queue_full": ("当前咨询人数太多，人工客服暂时接待不过来，您的留言已保存，客服会尽快回复您；在此之前我会继续为您解答。",
                   "So many buyers are waiting that our team can't take you right now. Your message is saved and "
                   "they will reply as soon as they can; until then I'll keep helping where I can."),
}
_TAKEOVER_DEFAULT = ("人工客服暂时不在线{when_zh}，您的留言已保存，客服上线后会第一时间回复您；在此之前我会继续为您解答。",
                     "Our team is not available right now{when_en}. Your message is saved and they will reply as "
                     "soon as they are back; until then I'll keep helping where I can.")


def takeover(reason: str, when: str | None, lang: str) -> str:
    """The bot says honestly that it covers now, when the humans are back, and that the message is kept."""
    zh, en = _TAKEOVER.get(reason, _TAKEOVER_DEFAULT)
    text = zh if lang == "zh" else en
    return text.format(when_zh=f"（{when} 上线）" if when else "", when_en=f" (back at {when})" if when else "")


def still_kept(when: str | None, lang: str) -> str:
    """A buyer the offline pool keeps asks for a person again: they are still in line for the humans."""
    if when:
        return _pick({"zh": f"您的留言已在人工客服的待办中，客服上线后会第一时间回复您（下次分配 {when}），无需重复发送。",
                      "en": f"You are still on our team's list and they will reply as soon as they are back "
                            f"(next assignment at {when}); there is no need to ask again."}, lang)
    return _pick({"zh": "您的留言已在人工客服的待办中，客服上线后会第一时间回复您，无需重复发送。",
                  "en": "You are still on our team's list and they will reply as soon as they are back; "
                        "there is no need to ask again."}, lang)


POOL_NOTICE = "离线留言自动分配 / assigned from offline messages"
POOL_BY_ADMIN = "管理员从离线留言分配 / assigned by the admin from offline messages"
POOL_BY_AGENT = "{agent} 从离线留言接入 / {agent} took this buyer from offline messages"
AUTO_RUN = "system auto-assign"  # the operator of the pool's scheduled runs (routing/offline.py)


def pool_notice(by: str | None) -> str:
    """The agent's note on a buyer taken from the pool: by the scheduled run, the admin, or an agent."""
    if by is None or by == AUTO_RUN:
        return POOL_NOTICE
    if by == "admin":
        return POOL_BY_ADMIN
    return POOL_BY_AGENT.format(agent=by)
TRANSFER_NOTICE = {"zh": "正在为您转接其他客服，请稍候～", "en": "I'm transferring you to a colleague, one moment please."}


def transferred(lang: str) -> str:
    return _pick(TRANSFER_NOTICE, lang)


def rating_request(lang: str) -> str:
    """Asked when a human conversation closes."""
    return _pick({"zh": "本次服务已结束，请您对客服评价：回复 满意 / 一般 / 不满意，或 1-5 分（5 分最满意）。",
                  "en": "This chat has ended. How did we do? Reply satisfied / neutral / dissatisfied, "
                        "or a score from 1 to 5 (5 is best)."}, lang)


def rating_thanks(lang: str) -> str:
    return _pick({"zh": "感谢您的评价，祝您购物愉快！", "en": "Thank you for your feedback. Happy shopping!"}, lang)
