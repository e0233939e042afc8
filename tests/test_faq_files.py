"""FAQ files: the bundled FAQ is complete, and a bad file is refused with file, entry and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from reception.config import BUNDLED_FAQ
from reception.faq.loader import FaqError, load_dir
from reception.faq.text import has_cjk


def test_the_bundled_faq_covers_a_shop_in_both_languages():
    entries = load_dir(BUNDLED_FAQ)
    assert len(entries) >= 30
    for entry in entries:
        zh = [q for q in entry.questions if has_cjk(q)]
        en = [q for q in entry.questions if not has_cjk(q)]
        assert len(zh) >= 6 and len(en) >= 6, entry.id
        assert entry.answer_in("zh") and entry.answer_in("en"), entry.id
        assert has_cjk(entry.answer_in("zh")) and not has_cjk(entry.answer_in("en")), entry.id
    ids = {e.id for e in entries}
    for topic in ("shipping_time", "logistics_tracking", "change_address", "cancel_order", "return_7day",
                  "refund_time", "invoice_request", "coupon_usage", "stock_restock", "payment_failed",
                  "service_hours"):
        assert topic in ids


@pytest.mark.parametrize("text,entry,reason", [
    ("- id: a\n  questions: [hi]\n", "#1 (a)", "answer"),
    ("- id: a\n  questions: []\n  answer: x\n", "#1 (a)", "questions"),
    ("- id: 'bad id!'\n  questions: [hi]\n  answer: x\n", "#1", "id"),
    ("- id: a\n  questions: [hi]\n  answer: {fr: bonjour}\n", "#1 (a)", "answer"),
    ("- id: a\n  questions: [hi]\n  answer: x\n  colour: red\n", "#1 (a)", "colour"),
    ("- just a string\n", "#1", "mapping"),
    ("id: a\n", None, "list"),
    ("- id: a\n  questions: [hi\n", None, "YAML"),
])
def test_a_bad_file_names_file_entry_and_reason(tmp_path: Path, text, entry, reason):
    (tmp_path / "shop.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(FaqError) as err:
        load_dir(tmp_path)
    message = str(err.value)
    assert "shop.yaml" in message and reason in message
    if entry:
        assert f"entry {entry}" in message


def test_duplicate_ids_across_files_are_refused(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("- id: same\n  questions: [hi]\n  answer: x\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("- id: same\n  questions: [ho]\n  answer: y\n", encoding="utf-8")
    with pytest.raises(FaqError, match="duplicate id"):
        load_dir(tmp_path)


def test_invalid_utf8_is_refused(tmp_path: Path):
    (tmp_path / "x.yaml").write_bytes(b"- id: a\n  questions: [\xff]\n  answer: x\n")
    with pytest.raises(FaqError, match="UTF-8"):
        load_dir(tmp_path)
