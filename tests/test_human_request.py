"""Requests for a human, in Chinese and English, are recognised; ordinary shop questions are not."""

import pytest

from reception.human_request import human_request_kind, is_human_request


@pytest.mark.parametrize("text", [
    "人工", "转人工", "我要转人工", "人工客服", "找客服", "我想找客服", "真人", "叫你们客服出来", "有人吗?",
    "你好，有人吗",
    "转接人工服务", "能帮我接通人工吗", "换个真人来", "客服在吗", "不要机器人，我要人工",
    "人工客服电话多少",  # names the human explicitly
])
def test_chinese_requests(text):
    assert is_human_request(text)


@pytest.mark.parametrize("text", [
    "human", "agent", "Agent please", "real person", "representative", "operator", "live chat",
    "speak to someone", "I want to talk to a human", "can I talk with a person", "connect me to a representative",
    "customer service rep", "transfer me to an agent", "I need to speak with a live agent please",
    "is there anyone available to help", "let me talk to your supervisor", "i want to speak to customer service",
])
def test_english_requests(text):
    assert is_human_request(text)


@pytest.mark.parametrize("text", [
    "talk to an agnet", "speak to a humna", "I need to spek with a represntative", "can i talk to a hyman",
    "i have got tocontact a person", "Talk to a damn operator", "I'm trying to speak wiht an assistant",
    "ＴＡＬＫ ＴＯ Ａ ＨＵＭＡＮ！！", "could ya transfer me to someone pls",
])
def test_typos_slang_and_full_width(text):
    assert is_human_request(text)


@pytest.mark.parametrize("text, kind", [
    ("are you a bot", "bot"), ("你是机器人吗", "bot"), ("am I talking to a real person?", "explicit"),
    ("This is urgent", "escalation"), ("客服电话一直打不通", "escalation"), ("you are useless", "escalation"),
    ("pathetic service", "escalation"), ("叫你们经理出来", "escalation"), ("转人工", "explicit"),
    ("I want to file a complaint", "escalation"), ("我要投诉你们", "escalation"), ("怎么投诉", "escalation"),
])
def test_kinds(text, kind):
    assert human_request_kind(text) == kind


@pytest.mark.parametrize("text", [
    "where is my order", "How do I return an item?", "can I change my shipping address",
    "what payment methods do you accept",
    "多久发货", "怎么退货", "能开发票吗", "这个有货吗", "在吗", "亲，在吗？", "你好",
    "how do I contact customer service by phone", "customer service phone number", "what are your customer care hours",
    "客服电话多少", "客服几点上班", "怎么联系客服",  # asking for contact details: the FAQ answers
    "I don't need an agent", "不用转人工了，谢谢",  # negated
    "do you sell human hair wigs", "is this a travel agent", "how much is the cleaning agent", "人工智能音箱有货吗",
    "人工草坪怎么铺", "this cream is made for human skin", "I made a transfer to someone yesterday",
    "Do I need to speak to a representative to change my pin?", "有没有人知道这个怎么用",
    "need it asap", "I need this urgently", "want it immediately please",  # the parcel is urgent, not a person
])
def test_ordinary_messages_are_not_requests(text):
    assert not is_human_request(text)


def test_empty_text():
    assert not is_human_request("")
    assert not is_human_request("   ？？ ")


@pytest.mark.parametrize("text", [
    "能不能换个人跟我说", "别让机器人回", "换个人来处理吧", "我想和人聊", "让你们同事来", "机器人别回了",
    "let me talk to someone else", "can someone else help me", "can i talk to another person",
    "pass me to your colleague", "no more bot replies please", "is there a person I can talk to",
])
def test_asking_for_another_person_without_naming_the_service(text):
    assert human_request_kind(text) in ("explicit", "bot")


@pytest.mark.parametrize("text", [
    "换个颜色", "能换个地址吗", "换一个人收货可以吗", "我换个人的地址", "换人民币",
    "another person will receive it", "can someone else pick up my parcel",
])
def test_another_person_as_recipient_or_a_change_is_not_a_request(text):
    assert human_request_kind(text) is None
