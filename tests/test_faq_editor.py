"""`faq.editor`: a phrasing or an entry added to a shop's YAML file, every other byte kept, written atomically."""

from __future__ import annotations

import difflib
import shutil

import pytest

from reception.config import BUNDLED_FAQ
from reception.faq import editor
from reception.faq.loader import load_file, load_with_files

OWNER = """\
# Our shop's FAQ. Keep answers short!

- id: track_order            # unique across the folder
  questions:                 # what buyers type
    - 我的快递到哪了
    - "where is my parcel"   # quoted on purpose
    # - 物流 (too vague, see below)
  answer: 您的订单物流信息如下…   # a string, or {zh: ..., en: ...}

# --- returns ---
- id: returns
  questions: [怎么退货, how do I return it]
  answer:
    zh: |
      七天无理由退货。
        运费自理。
    en: 7-day returns.
  tags: [after_sale]
"""


def inserted(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before`; fails if it changes or removes any."""
    ops = difflib.SequenceMatcher(None, before.splitlines(True), after.splitlines(True)).get_opcodes()
    assert all(op in ("equal", "insert") for op, *_ in ops), list(difflib.unified_diff(
        before.splitlines(True), after.splitlines(True)))
    return [line for op, _, _, j1, j2 in ops if op == "insert" for line in after.splitlines(True)[j1:j2]]


def test_a_phrasing_goes_after_the_last_question_and_every_comment_stays(tmp_path):
    path = tmp_path / "faq.yaml"
    path.write_text(OWNER, encoding="utf-8")
    previous = editor.add_phrasing(path, "track_order", "包裹到哪儿了: 急 #1")
    after = path.read_text(encoding="utf-8")
    assert previous == OWNER.encode()
    assert inserted(OWNER, after) == ["    - '包裹到哪儿了: 急 #1'\n"]
    assert after.index("包裹到哪儿了") < after.index("# - 物流")  # before the owner's trailing comment
    assert load_file(path)[0].questions[-1] == "包裹到哪儿了: 急 #1"


def test_a_flow_style_list_gets_the_phrasing_before_its_bracket(tmp_path):
    path = tmp_path / "faq.yaml"
    path.write_text(OWNER, encoding="utf-8")
    editor.add_phrasing(path, "returns", "can I send it back, please")
    after = path.read_text(encoding="utf-8")
    assert after == OWNER.replace("[怎么退货, how do I return it]",
                                  "[怎么退货, how do I return it, 'can I send it back, please']")
    assert load_file(path)[1].questions[-1] == "can I send it back, please"


def test_a_comment_inside_a_flow_list_is_never_moved_the_edit_is_refused(tmp_path):
    path = tmp_path / "faq.yaml"
    unusual = OWNER.replace("[怎么退货, how do I return it]", "[怎么退货,   # the common one\n    how do I return it]")
    path.write_text(unusual, encoding="utf-8")
    with pytest.raises(editor.EditError, match="one question per line"):
        editor.add_phrasing(path, "returns", "can I send it back")
    assert path.read_text(encoding="utf-8") == unusual


def test_every_bundled_entry_takes_a_phrasing_as_one_inserted_line(tmp_path):
    folder = tmp_path / "faq"
    shutil.copytree(BUNDLED_FAQ, folder)
    entries, files = load_with_files(folder)
    for entry in entries:
        before = files[entry.id].read_text(encoding="utf-8")
        editor.add_phrasing(files[entry.id], entry.id, f"新问法 {entry.id}")
        assert inserted(before, files[entry.id].read_text(encoding="utf-8")) == [f"    - 新问法 {entry.id}\n"]
    again, _ = load_with_files(folder)
    assert all(e.questions[-1] == f"新问法 {e.id}" for e in again)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_a_new_entry_is_appended_in_the_files_layout_and_read_back_as_written(tmp_path):
    path = tmp_path / "faq.yaml"
    path.write_text(OWNER, encoding="utf-8")
    entry = {"id": "microwave", "questions": ["能放微波炉吗", "no"], "answer": {"zh": "可以", "en": "Yes"}}
    editor.add_entry(path, entry)
    after = path.read_text(encoding="utf-8")
    added = "".join(inserted(OWNER, after))
    # "no" and "Yes" are quoted: the loader reads YAML 1.1, where they would be booleans
    assert added == ('\n- id: microwave\n  questions:\n    - 能放微波炉吗\n    - "no"\n'
                     '  answer:\n    zh: 可以\n    en: "Yes"\n')
    assert load_file(path)[-1].model_dump(exclude_defaults=True) == entry


def test_a_new_file_gets_a_header_and_windows_line_ends_are_kept(tmp_path):
    path = tmp_path / "learned.yaml"
    assert editor.add_entry(path, {"id": "a", "questions": ["q"], "answer": "x"}) is None
    assert path.read_text(encoding="utf-8").startswith("# Entries added from the dashboard")
    crlf = tmp_path / "crlf.yaml"
    crlf.write_bytes(OWNER.replace("\n", "\r\n").encode())
    editor.add_phrasing(crlf, "track_order", "到哪了")
    raw = crlf.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"") and "    - 到哪了\r\n".encode() in raw


def test_restore_puts_the_file_back_and_refusals_leave_it_alone(tmp_path):
    path = tmp_path / "faq.yaml"
    path.write_text(OWNER, encoding="utf-8")
    previous = editor.add_phrasing(path, "track_order", "x")
    editor.restore(path, previous)
    assert path.read_text(encoding="utf-8") == OWNER
    with pytest.raises(editor.EditError, match="no entry 'missing'"):
        editor.add_phrasing(path, "missing", "x")
    (tmp_path / "bad.yaml").write_text("- id: [\n", encoding="utf-8")
    with pytest.raises(editor.EditError, match="not valid YAML"):
        editor.add_phrasing(tmp_path / "bad.yaml", "a", "x")
    assert path.read_text(encoding="utf-8") == OWNER
    new = tmp_path / "new.yaml"
    editor.restore(new, editor.add_entry(new, {"id": "a", "questions": ["q"], "answer": "x"}))
    assert not new.exists()
