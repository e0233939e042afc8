"""The FAQ matcher as a buyer meets it: paraphrases in both languages find the right entry, noise does not."""

import time

import pytest

from reception.bigsale import DEFAULT_THRESHOLD
from reception.config import BUNDLED_FAQ
from reception.faq.confidence import _COEF, confidence
from reception.faq.library import build
from reception.faq.loader import FaqEntry, load_with_files
from reception.faq.matcher import FaqMatcher
from reception.faq.sentences import rich_in
from reception.faq.text import has_cjk

FAQ = [
    FaqEntry(id="shipping_time", answer="48h", questions=[
        "多久发货", "什么时候发货", "下单后几天能发货",
        "How long until my order ships?", "When will you ship my order?"]),
    FaqEntry(id="returns", answer="7 days", questions=[
        "怎么退货", "可以退货吗", "七天无理由退货怎么申请", "How do I return an item?", "What is your return policy?"]),
    FaqEntry(id="change_address", answer="orders page", questions=[
        "怎么修改收货地址", "地址填错了怎么办",
        "How can I change my shipping address?", "I entered the wrong address"]),
    FaqEntry(id="invoice", answer="invoice page", questions=[
        "能开发票吗", "怎么开发票", "Can I get an invoice?", "How do I get a receipt for my order?"]),
    FaqEntry(id="tracking", answer="tracking page", questions=[
        "我的快递到哪了", "怎么查物流", "Where is my package?", "How can I track my order?"]),
    FaqEntry(id="cancel", answer="cancel button", questions=[
        "怎么取消订单", "不想要了能取消吗", "How do I cancel my order?", "Can I cancel an order?"]),
    FaqEntry(id="payment", answer="cards, Alipay", questions=[
        "支持哪些付款方式", "可以用花呗吗", "What payment methods do you accept?", "Can I pay with PayPal?"]),
    FaqEntry(id="size", answer="size chart", questions=[
        "尺码怎么选", "我170穿多大码", "How do I choose my size?", "Do you have a size chart?"]),
]


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    return FaqMatcher(FAQ)


@pytest.mark.parametrize("text, entry", [
    ("发票怎么开", "invoice"),
    ("我不想要了，订单怎么取消", "cancel"),
    ("when do you ship my order", "shipping_time"),
    ("where is my parcel", "tracking"),
    ("cancel my order please", "cancel"),
    ("size chart please", "size"),
])
def test_paraphrases_are_answered_with_high_confidence(matcher, text, entry):
    match = matcher.match(text)
    assert match.entry.id == entry
    assert match.confidence >= DEFAULT_THRESHOLD


@pytest.mark.parametrize("text, entry", [
    ("你们一般多久才发货？", "shipping_time"),
    ("请问几天能发货呀", "shipping_time"),
    ("能不能用花呗付款", "payment"),
    ("收货地址写错了，能改吗", "change_address"),
    ("物流到哪里了", "tracking"),
    ("i want to change the address for delivery", "change_address"),
    ("how long before my order ships", "shipping_time"),
    ("how can I retrun an itme", "returns"),  # typos
    ("我想 return 这个 item", "returns"),  # mixed languages
])
def test_looser_paraphrases_find_the_right_entry(matcher, text, entry):
    match = matcher.match(text)
    assert match.entry.id == entry
    assert match.confidence > 0.5
    assert match.confidence > 20 * match.runner_up_confidence


@pytest.mark.parametrize("variant", [
    "ＨＯＷ ＤＯ Ｉ ＲＥＴＵＲＮ ＡＮ ＩＴＥＭ？？？",
    "how do i return an item",
    "How do I return an item!!!",
    "  how   DO i   return an item  ",
])
def test_width_punctuation_and_case_do_not_matter(matcher, variant):
    reference = matcher.match("How do I return an item?")
    match = matcher.match(variant)
    assert match.entry.id == "returns"
    assert match.confidence == pytest.approx(reference.confidence, abs=1e-9)


def test_chinese_punctuation_and_full_width_do_not_matter(matcher):
    plain = matcher.match("怎么查物流")
    noisy = matcher.match("怎么查物流？！？")
    assert noisy.entry.id == plain.entry.id == "tracking"
    assert noisy.confidence == pytest.approx(plain.confidence)


@pytest.mark.parametrize("text", ["asdkjh qwe", "啊啊啊哦哦", "What's the weather tomorrow?", "明天天气怎么样",
                                  "qwertyuiop"])
def test_gibberish_and_off_topic_get_low_confidence(matcher, text):
    match = matcher.match(text)
    assert match is None or match.confidence < 0.2


@pytest.mark.parametrize("text", ["", "   ", "？！。", "!!!"])
def test_text_that_normalises_to_nothing_gives_no_match(matcher, text):
    assert matcher.match(text) is None


@pytest.mark.parametrize("text", ["怎么退货", "return", "12345", "a", "退",
                                  "where is my package right now I need it today", "運費"])
def test_confidences_are_probabilities(matcher, text):
    match = matcher.match(text)
    assert match is not None
    assert 0.0 <= match.confidence <= 1.0
    assert 0.0 <= match.runner_up_confidence <= 1.0


def test_runner_up_is_another_entry_and_less_likely(matcher):
    match = matcher.match("How can I track my order?")
    assert match.entry.id == "tracking"
    assert match.runner_up is not None and match.runner_up.id != "tracking"
    assert match.runner_up_confidence < match.confidence


def test_the_matched_phrasing_is_reported(matcher):
    match = matcher.match("where is my package??")
    assert match.question == "Where is my package?"


def test_close_entries_lower_the_confidence():
    alone = FaqMatcher([FAQ[0], FAQ[1]]).match("How do I return an item")
    rival = FaqEntry(id="returns_b", answer="-", questions=["How do I return an item bought on sale?"])
    crowded = FaqMatcher([FAQ[0], FAQ[1], rival]).match("How do I return an item")
    assert crowded.confidence < alone.confidence


def test_empty_faq_and_empty_phrasings():
    assert FaqMatcher([]).match("hello") is None
    only_punctuation = FaqMatcher([FaqEntry(id="x", questions=["???"], answer="-")])
    match = only_punctuation.match("hello")
    assert match is None or match.confidence == 0.0


def test_ten_thousand_questions_match_quickly():
    words = ["order", "refund", "ship", "address", "invoice", "coupon", "size", "color", "cancel", "track"]
    entries = []
    for i in range(1000):
        a, b, c = words[i % 10], words[(i // 10) % 10], words[(i // 100) % 10]
        entries.append(FaqEntry(id=f"e{i}", answer="-", questions=[
            f"{a} {b} {c} question {i} variant {j}" if j % 2 else f"第{i}个问题 {a} {b} 怎么办 {j}"
            for j in range(10)]))
    matcher = FaqMatcher(entries)
    texts = [f"{words[i % 10]} {words[(i * 3) % 10]} question {i * 7}" for i in range(200)]
    texts += [f"第{i}个问题怎么办" for i in range(200)]
    start = time.perf_counter()
    for text in texts:
        matcher.match(text)
    per_match = (time.perf_counter() - start) / len(texts)
    assert per_match < 0.005  # generous for CI; the benchmark reports ~0.3 ms on real text


@pytest.mark.parametrize("text", ["请问几天能发货呀", "收货地址写错了，能改吗", "when do you ship my order",
                                  "where is my parcel"])
def test_a_bilingual_entry_is_not_diluted_by_its_other_language(matcher, text):
    """Each language's phrasings form their own part of the entry centroid: a Chinese message scores
    against a bilingual FAQ as against the same FAQ with only its Chinese phrasings (and vice versa)."""
    chinese = has_cjk(text)
    one_language = FaqMatcher([FaqEntry(id=e.id, answer="-",
                                        questions=[q for q in e.questions if has_cjk(q) == chinese])
                               for e in FAQ])
    both, alone = matcher.match(text), one_language.match(text)
    assert both.entry.id == alone.entry.id
    assert both.confidence == pytest.approx(alone.confidence, abs=0.03)


def test_confidence_inputs_match_the_coefficients(matcher):
    _, best, runner = matcher._inputs("怎么退货")
    assert len(best) == len(runner) == len(_COEF)
    assert confidence(best) == pytest.approx(matcher.match("怎么退货").confidence)



STORY = "Yesterday the whole family hiked up a mountain and watched the sunset from the summit. "


@pytest.fixture(scope="module")
def bundled() -> FaqMatcher:
    """The bundled FAQ, rich in phrasings in both languages (`rich_in`)."""
    entries, _ = load_with_files(BUNDLED_FAQ)
    assert rich_in(entries, "en") and rich_in(entries, "zh")
    return FaqMatcher(entries)


@pytest.mark.parametrize("question, entry", [
    ("How can I change my shipping address?", "change_address"),
    ("Can I cancel my order before it ships?", "cancel_order"),
    ("Do you offer gift wrapping?", "gift_wrap_note"),
])
def test_in_a_rich_faq_a_story_before_the_question_does_not_make_the_bot_unsure(bundled, question, entry):
    alone = bundled.match(question)
    told = bundled.match(STORY + question)
    assert told.entry.id == alone.entry.id == entry
    assert told.confidence == pytest.approx(alone.confidence) and told.confidence > 0.9
    # the story's words, which the entry lacks, are what the whole message alone is judged on
    ranked, best, _ = bundled._inputs(STORY + question)
    assert bundled.entries[ranked[0][1]].id == entry and confidence(best) < 0.75


def test_a_sentence_never_brings_another_entry_than_the_whole_message(bundled):
    text = "Where is my package? Also I want to return an item, how do I do that?"
    found = bundled.match(text)
    assert found.entry.id == "return_process"
    assert found.confidence < bundled.match("Where is my package?").confidence


def test_in_a_thin_faq_the_whole_message_alone_decides(matcher):
    text = STORY + "Where is my package?"
    ranked, best, _ = matcher._inputs(text)
    assert matcher.match(text).confidence == confidence(best) < matcher.match("Where is my package?").confidence


def test_a_real_word_the_faq_lacks_is_not_read_as_an_faq_word():
    """"snow" is not the bundled FAQ's "now" (as in "I need it now") nor its "know" or "show": the weather is not
    an urgent order. Only a word that is no English word is taken for a misspelling.

    Read as "now", the weather question was answered with urgent shipping at 0.905 (0.94 with today's FAQ).
    Its "tomorrow" alone still takes it there at 0.73, just over the English threshold (0.72) of the FAQ's
    2,966 phrasings (0.67 with the 2,247 before): a known wrong answer, so the speller is held to leaving
    "snow" a word the FAQ lacks, like "hail"."""
    faq = build(*load_with_files(BUNDLED_FAQ), max_wrong_share=0.05)
    weather = faq.matcher.match("is it going to snow tomorrow")
    hail = faq.matcher.match("is it going to hail tomorrow")
    misread = faq.matcher.match("is it going to now tomorrow")
    assert weather is not None and hail is not None and misread is not None
    assert abs(weather.confidence - hail.confidence) < 0.02 and weather.confidence < misread.confidence - 0.1
    typo = faq.matcher.match("how can I retrun an itme")  # while the typos of longer words are still read
    assert typo is not None and typo.entry.id == "return_process"
    assert typo.confidence >= faq.calibration.languages["en"].threshold


def test_a_message_that_is_one_of_the_phrasings_is_answered_with_its_entry():
    """A buyer tapping a suggested question sends a phrasing word for word. Its entry is re-scored even when
    the entry's centroid is far from the message: "还没发货能退款吗" is cancel_order's, but nearer the refund
    entries' centroids, and went to refund_status at 0.37 before (21 of the 2,966 phrasings went elsewhere;
    the few left are near twins of another entry's phrasings)."""
    faq = build(*load_with_files(BUNDLED_FAQ), max_wrong_share=0.05)
    assert faq.matcher.match("还没发货能退款吗").entry.id == "cancel_order"
    missed = [q for e in faq.entries for q in e.questions if faq.matcher.match(q).entry.id != e.id]
    assert len(missed) <= 5, missed
