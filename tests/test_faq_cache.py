"""The FAQ's indexing work kept between starts (``[bot] cache_dir``): a restart uses it, a broken file is
computed again, and nothing is kept when the setting is empty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reception.faq import library
from reception.faq.diskcache import DiskCache
from reception.faq.library import build
from reception.faq.loader import load_with_files
from reception.faq.semantic import DIM, load_encoder
from reception.testing import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FAQ = ("- id: shipping\n  questions: [什么时候发货, 几天能发货, 多久发货呀, 下单后多久发出, 付款了什么时候发]\n"
       "  answer: 48 小时内发货\n"
       "- id: invoice\n  questions: [能开发票吗, 发票怎么开, 我要开个发票, 可以开专票吗, 电子发票有吗]\n"
       "  answer: 可以开发票\n")


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "shop.yaml").write_text(FAQ, encoding="utf-8")
    return folder


async def _threshold(start, faq_dir: Path, cache: str) -> float:
    library._indexed.clear()  # a new process: nothing indexed in memory
    client = await start(faq=[str(faq_dir)], bot={"cache_dir": cache})
    body = await (await client.post("/api/v1/faq/try", json={"text": "什么时候发货"}, headers=ADMIN)).json()
    return body["threshold"]


async def test_a_restart_uses_the_kept_calibration_and_calibrates_again_when_the_file_is_broken(
        start, faq_dir, tmp_path):
    cache = tmp_path / "cache"
    first = await _threshold(start, faq_dir, str(cache))
    [kept] = (cache / "calibration").glob("*.json")
    # what the restart answers with is the kept file: changed by hand, the threshold follows it
    data = json.loads(kept.read_text(encoding="utf-8"))
    data["languages"]["zh"]["threshold"] = 0.987
    kept.write_text(json.dumps(data), encoding="utf-8")
    assert await _threshold(start, faq_dir, str(cache)) == 0.987
    # a broken file (or one of another shape) is ignored, calibrated again and replaced
    kept.write_text('{"max_wrong_share": "lots"', encoding="utf-8")
    assert await _threshold(start, faq_dir, str(cache)) == first
    assert json.loads(kept.read_text(encoding="utf-8"))["languages"]["zh"]["threshold"] == first
    # another FAQ is another file
    (faq_dir / "shop.yaml").write_text(FAQ.replace("48 小时", "24 小时"), encoding="utf-8")
    await _threshold(start, faq_dir, str(cache))
    assert len(list((cache / "calibration").glob("*.json"))) == 2


async def test_an_empty_cache_dir_keeps_nothing(start, faq_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    await _threshold(start, faq_dir, "")
    kept = [p.name for p in tmp_path.rglob("*") if p.suffix in (".json", ".npy") or p.name == "calibration"]
    assert kept == []


@pytest.fixture
def indexing(faq_dir, tmp_path):
    """The semantic extra's encoder, the FAQ, its files and an empty cache, with nothing indexed in memory."""
    encoder = load_encoder()
    if encoder is None:
        pytest.skip("the semantic extra is not installed")
    entries, files = load_with_files(faq_dir)
    library._indexed.clear()
    return encoder, entries, files, DiskCache(tmp_path / "cache")


def test_kept_sentence_vectors_are_the_encoded_ones_and_a_wrong_shape_is_encoded_again(indexing, tmp_path):
    encoder, entries, files, cache = indexing
    fresh = build(entries, files, 0.05, encoder, cache).matcher.matcher._semantic.vectors
    [kept] = (tmp_path / "cache" / "vectors").glob("*.npy")
    library._indexed.clear()
    assert (build(entries, files, 0.05, encoder, cache).matcher.matcher._semantic.vectors == fresh).all()
    import numpy as np

    np.save(kept, np.zeros((3, 7), dtype=np.float32))
    library._indexed.clear()
    assert (build(entries, files, 0.05, encoder, cache).matcher.matcher._semantic.vectors == fresh).all()
    assert np.load(kept).shape == fresh.shape


def test_an_edit_encodes_only_the_phrasings_it_adds(indexing):
    encoder, entries, files, cache = indexing
    before = build(entries, files, 0.05, encoder, cache).matcher.matcher.phrasing_vectors
    added = "发票抬头可以写公司吗"
    edited = [entries[0], entries[1].model_copy(update={"questions": [*entries[1].questions, added]})]
    after = build(edited, files, 0.05, encoder, cache).matcher.matcher.phrasing_vectors
    assert set(after) == set(before) | {added}
    # what was encoded is kept on disk under the texts encoded together: the first reading's ten, then the one
    assert cache.vectors([added], DIM) is not None
    assert cache.vectors([q for e in edited for q in e.questions], DIM) is None
    assert all((after[q] == before[q]).all() for q in before)


def test_the_code_digest_covers_every_module_the_matcher_and_the_calibration_import():
    """A change to any of them must not reuse what an older version computed."""
    import ast

    from reception.faq import diskcache

    folder = Path(diskcache.__file__).parent
    seen, todo = set(), ["matcher.py", "calibrate.py"]
    while todo:
        name = todo.pop()
        seen.add(name)
        for node in ast.walk(ast.parse((folder / name).read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module and node.module != "diskcache":
                module = f"{node.module}.py"
                if module not in seen and (folder / module).is_file():
                    todo.append(module)
    assert seen <= set(diskcache._SOURCES)
