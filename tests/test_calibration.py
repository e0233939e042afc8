"""Per-FAQ calibration and the FAQ doctor: the threshold follows the shop's own FAQ, and the doctor says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CLI

from reception.cli import main
from reception.config import BUNDLED_FAQ
from reception.faq.calibrate import CEILING, FLOOR, RICH_FLOOR, calibrate, thin_floor
from reception.faq.evaluate.datasets import DEFAULT_DATASETS
from reception.faq.library import build
from reception.faq.loader import FaqEntry, load_with_files
from reception.faq.matcher import FaqMatcher
from reception.faq.sentences import rich_in
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
# The same questions shuffled between two entries each, and one of each half in the other entry too (a
# phrasing in two entries, as `reception faq check` warns): the FAQ cannot tell them apart.
CONFUSED = [
    FaqEntry(id=f"{e.id}_{half}", answer=e.answer, questions=[*e.questions[half::2], e.questions[1 - half]])
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


def test_a_thin_faq_answers_only_where_the_confidence_alone_keeps_wrong_answers_under_the_limit():
    # Thin (under 12 phrasings per entry): the threshold never goes below 1 - max_wrong_share.
    for limit in (0.02, 0.05, 0.1):
        calibration = build(DISTINCT, {}, limit).calibration
        assert calibration.threshold("zh") >= thin_floor(limit) == 1 - limit
        assert not calibration.languages["zh"].rich
    assert thin_floor(0.3) == FLOOR and thin_floor(0.001) == CEILING


def test_every_phrasing_is_held_out_and_every_entry_stands_in_for_a_missing_topic():
    samples = build(DISTINCT, {}, 0.05).calibration.samples
    known = [s for s in samples if s.kind == "known"]
    unknown = [s for s in samples if s.kind == "unknown"]
    phrasings = {(e.id, q) for e in DISTINCT for q in e.questions}
    assert {(s.entry, s.text) for s in known} == phrasings == {(s.entry, s.text) for s in unknown}
    assert len(known) == len(unknown) == len(phrasings)
    assert all(s.answered and s.answered != s.entry and not s.right for s in unknown)


def test_the_matcher_can_leave_an_entry_out_as_if_the_faq_lacked_it():
    matcher = FaqMatcher(DISTINCT)
    assert matcher.match("什么时候发货呀").entry.id == "shipping"
    without = matcher.match("什么时候发货呀", exclude=0)
    assert without.entry.id != "shipping" and without.runner_up.id != "shipping"
    assert without.confidence < matcher.match("什么时候发货呀").confidence


def test_the_same_content_gets_the_same_thresholds_without_the_cache():
    entries = load_with_files(BUNDLED_FAQ)[0]
    first = calibrate(entries, FaqMatcher(entries), 0.05)
    copies = [e.model_copy() for e in entries]
    again = calibrate(copies, FaqMatcher(copies), 0.05)
    assert first.languages == again.languages and first.samples == again.samples


def test_the_same_content_gets_the_same_samples_in_another_process():
    # Python salts its string hashes per process: nothing in the index may depend on a set's order.
    script = ("import sys; sys.path.insert(0, 'tests'); from test_calibration import CONFUSED; "
              "from reception.faq.calibrate import calibrate; from reception.faq.matcher import FaqMatcher; "
              "print(repr(calibrate(CONFUSED, FaqMatcher(CONFUSED), 0.05)))")
    root = Path(__file__).resolve().parents[1]
    runs = {subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(runs) == 1 and "LanguageCalibration" in runs.pop()


def test_an_edit_to_one_entry_holds_out_the_same_phrasings_of_every_other_entry():
    # A rich FAQ holds out a few phrasings per entry (`FOLD_BUDGET`); which ones is drawn per entry, so a
    # phrasing added to one entry (the unanswered-questions loop) does not draw every other entry anew.
    entries = load_with_files(BUNDLED_FAQ)[0]
    edited = [e.model_copy(update={"questions": [*e.questions, "can it come in a box with a bow on it"]})
              if e.id == "gift_wrap_note" else e for e in entries]

    def held_out(faq):
        calibration = calibrate(faq, FaqMatcher(faq), 0.05)
        texts = {(s.entry, s.text) for s in calibration.samples if s.kind == "known"}
        return calibration, {t for t in texts if t[0] != "gift_wrap_note"}

    (before, others), (after, others_after) = held_out(entries), held_out(edited)
    phrasings = sum(len(e.questions) for e in entries if e.id != "gift_wrap_note")
    assert others == others_after and 0 < len(others) < phrasings  # a sample of them, the same one
    for lang in ("zh", "en"):
        assert after.threshold(lang) == pytest.approx(before.threshold(lang), abs=0.02)


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
        "- id: shipping-fee\n  questions: [运费多少, 包邮吗, 邮费怎么算, 要不要运费, 偏远地区运费]\n"
        "  answer: 全国包邮\n",
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


def test_faq_check_says_when_a_thin_faq_is_held_to_the_global_calibration(tmp_path, capsys):
    rows = "".join(f"- id: {e.id}\n  questions: [{', '.join(e.questions)}]\n  answer: {e.answer}\n" for e in DISTINCT)
    assert main(["faq", "check", "--faq", str(_faq_dir(tmp_path, rows))]) == 0
    assert "fewer than 12 phrasings per entry in zh: the bot answers only at 0.95 or more" in capsys.readouterr().out
    assert main(["faq", "check", "--faq", str(BUNDLED_FAQ)]) == 0
    assert "fewer than 12 phrasings per entry" not in capsys.readouterr().out


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


def test_faq_eval_takes_its_own_options_from_the_reception_command():
    # `reception faq eval --semantic` was refused by the outer parser ("unrecognized arguments")
    done = subprocess.run([*CLI, "faq", "eval", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--semantic" in done.stdout and "--seed" in done.stdout


@pytest.mark.skipif(not (DEFAULT_DATASETS / "hint3").is_dir(), reason="../shared/datasets is not beside the project")
def test_faq_eval_over_several_seeds_sums_each_dataset_and_judges_the_sums():
    import io

    from reception.faq.evaluate.runner import pooled, run

    runs = [run(DEFAULT_DATASETS, seed=seed, max_messages=60, names=["hint3-sofmattress"], human_report=False,
                timing=False, out=io.StringIO()) for seed in (0, 1)]
    printed = io.StringIO()
    failures = pooled(runs, out=printed)
    rows = [line for line in printed.getvalue().splitlines() if line.startswith("hint3-sofmattress")]
    assert len(rows) == 2  # k = 5 and 10
    for row, key in zip(rows, [(n, k) for n, k in runs[0].tallies]):
        bot = [r.tallies[key]["bot"] for r in runs]
        n, right = sum(t.n for t in bot), sum(t.right for t in bot)
        assert row.split()[:5] == ["hint3-sofmattress", str(key[1]), str(n), "bot", f"{100 * right / n:.1f}"]
    expected = []
    for key in runs[0].tallies:
        right = {s: sum(r.tallies[key][s].right for r in runs) for s in runs[0].tallies[key]}
        wrong = sum(r.tallies[key]["bot"].wrong for r in runs)
        problems = (["bot wrong share > 5%"] if wrong > 0.05 * (wrong + right["bot"]) else []) + \
            [f"bot below {b}" for b in ("rapidfuzz", "tfidf") if right["bot"] < right[b]]
        if problems:
            expected.append(f"hint3-sofmattress k={key[1]}: " + ", ".join(problems))
    assert failures == expected
    assert printed.getvalue().rstrip().endswith("all met" if not expected else "; ".join(expected))
