"""Per-FAQ calibration and the FAQ doctor: the threshold follows the shop's own FAQ, and the doctor says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from reception.cli import main
from reception.config import BUNDLED_FAQ
from reception.faq.calibrate import CEILING, FLOOR, RICH_FLOOR, rich_in
from reception.faq.library import build
from reception.faq.loader import FaqEntry, load_with_files
from reception.testing import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

DISTINCT = [
    FaqEntry(id="shipping", answer="48 小时内发货", questions=[
        "什么时候发货", "几天能发货", "多久发货呀", "下单后多久发出", "付款了什么时候发", "能尽快发货吗"]),
    FaqEntry(id="invoice", answer="可以开发票", questions=[
        "能开发票吗", "发票怎么开", "我要开个发票", "可以开专票吗", "发票抬头怎么填", "电子发票有吗"]),
    FaqEntry(id="size", answer="看尺码表", questions=[
        "尺码怎么选", "我穿多大码", "身高一米七选什么码", "偏大还是偏小", "有尺码表吗", "M码合适吗"]),
    FaqEntry(id="payment", answer="支持微信支付宝", questions=[
        "能用微信付款吗", "支持支付宝吗", "可以信用卡支付吗", "怎么付款", "支付方式有哪些", "能花呗吗"]),
]
# The same questions shuffled between two entries each: the FAQ cannot tell them apart.
CONFUSED = [
    FaqEntry(id=f"{e.id}_{half}", answer=e.answer, questions=e.questions[half::2])
    for e in DISTINCT for half in (0, 1)
]


def test_a_faq_whose_entries_overlap_needs_more_confidence_than_a_distinct_one():
    distinct = build(DISTINCT, {}, 0.05).calibration
    confused = build(CONFUSED, {}, 0.05).calibration
    assert FLOOR <= distinct.threshold("zh") < confused.threshold("zh") <= CEILING
    assert confused.languages["zh"].right_rate < distinct.languages["zh"].right_rate


def test_a_looser_limit_gives_a_threshold_no_higher():
    strict = build(DISTINCT, {}, 0.01).calibration.threshold("zh")
    loose = build(DISTINCT, {}, 0.2).calibration.threshold("zh")
    assert loose <= strict


def test_the_same_content_is_calibrated_once():
    entries, files = load_with_files(BUNDLED_FAQ)
    first = build(entries, files, 0.05)
    again = build([e.model_copy() for e in entries], files, 0.05)
    assert again.calibration is first.calibration and again.matcher is first.matcher


def test_only_a_faq_rich_in_phrasings_may_go_below_the_floor():
    assert not rich_in(DISTINCT, "zh") and not rich_in(DISTINCT, "en")
    assert rich_in(load_with_files(BUNDLED_FAQ)[0], "zh") and rich_in(load_with_files(BUNDLED_FAQ)[0], "en")


def test_the_bundled_faq_is_calibrated_per_language():
    faq = build(*load_with_files(BUNDLED_FAQ), max_wrong_share=0.05)
    for lang in ("zh", "en"):
        figures = faq.calibration.languages[lang]
        assert RICH_FLOOR <= figures.threshold <= CEILING
        assert figures.wrong_share <= 0.05 and figures.samples >= 45


async def test_the_try_out_shows_the_calibrated_threshold_and_an_explicit_one_overrides_it(start, tmp_path):
    client = await start()
    body = await (await client.post("/api/v1/faq/try", json={"text": "什么时候发货"}, headers=ADMIN)).json()
    calibrated = build(*load_with_files(BUNDLED_FAQ), max_wrong_share=0.05).calibration.threshold("zh")
    assert body["threshold"] == calibrated and body["calibration"]["threshold"] == calibrated
    assert body["entry_id"] == "shipping_time" and body["would_answer"] is True
    assert set(body["advice"]) == {"confusions", "few_phrasings", "shared_phrasings", "missing_answers"}

    fixed = await start(bot={"answer_threshold": 0.999})
    body = await (await fixed.post("/api/v1/faq/try", json={"text": "什么时候发货呀亲"}, headers=ADMIN)).json()
    assert body["threshold"] == 0.999 and body["would_answer"] is False


async def test_a_chinese_entry_id_is_answered_under_its_own_name(start, tmp_path):
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "shop.yaml").write_text(
        "- id: 发货时间\n  questions: [什么时候发货, 几天能发货, 多久发货呀, 下单后多久发出, 付款了什么时候发]\n"
        "  answer: 亲，48 小时内发货哦\n"
        "- id: shipping-fee\n  questions: [运费多少, 包邮吗, 邮费怎么算, 要不要运费, 偏远地区运费]\n  answer: 全国包邮\n",
        encoding="utf-8")
    client = await start(faq=[str(faq)])
    reply = await (await client.post("/api/v1/webhook/messages",
                                     json={"customer_id": "b1", "text": "什么时候发货"})).json()
    assert reply["replies"][0]["intent"] == "发货时间"


def _faq_dir(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir(exist_ok=True)
    (folder / "shop.yaml").write_text(text, encoding="utf-8")
    return folder


def test_faq_check_reports_the_figures_per_language(capsys):
    assert main(["faq", "check", "--faq", str(BUNDLED_FAQ)]) == 0
    out = capsys.readouterr().out
    assert "45 entries" in out
    assert "zh: answers at confidence >=" in out and "en: answers at confidence >=" in out


def test_faq_check_advises_on_shared_phrasings_few_phrasings_and_missing_answers(tmp_path, capsys):
    folder = _faq_dir(tmp_path, (
        "- id: a\n  questions: [什么时候发货, 几天发货, 多久发出, 发货快吗, 今天能发吗, when do you ship]\n"
        "  answer: {zh: 48 小时内发货}\n"
        "- id: b\n  questions: [什么时候发货, 运费多少, 包邮吗]\n  answer: {zh: 包邮, en: free shipping}\n"))
    assert main(["faq", "check", "--faq", str(folder)]) == 0  # advice is not an error
    out = capsys.readouterr().out
    assert "'什么时候发货': a, b" in out
    assert "b: 3 in zh" in out and "a: 1 in en" in out
    assert "a: no en answer" in out


@pytest.mark.parametrize("text, reason", [
    ("", "no entries"),
    ("- id: a/b\n  questions: [hi]\n  answer: x\n", "id"),
    ("- id: 发货\n  questions: [hi]\n  answer: x\n- id: 发货\n  questions: [ho]\n  answer: y\n", "duplicate id"),
])
def test_faq_check_refuses_errors_with_one_line(tmp_path, capsys, text, reason):
    folder = _faq_dir(tmp_path, text)
    assert main(["faq", "check", "--faq", str(folder)]) == 2
    err = capsys.readouterr().err
    assert reason in err and len(err.strip().splitlines()) == 1
