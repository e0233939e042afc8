"""Edits to the shop's FAQ files that keep what the owner wrote, written atomically.

Two edits: a phrasing added to an entry's ``questions`` and a new entry added
at the end of a file. The file is read with ruamel.yaml in round-trip mode,
which gives the position of every node; the new text is rendered by
ruamel.yaml in the file's own indentation and inserted at that position, so
every other byte (comments, blank lines, order, quoting, alignment) stays as
the owner wrote it. A layout where that is not safe (a comment inside a
flow-style list) is refused with `EditError` rather than rewritten. The
result is read back as the FAQ loader reads it and must hold exactly the
intended data, or nothing is written. Files are replaced with `os.replace`
from a temporary file in the same folder, so a reader sees the old file or
the new one, never half of one.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

NEW_FILE_HEADER = "# Entries added from the dashboard (questions buyers asked that the FAQ did not answer).\n"
DEFAULT_STYLE = (2, 4, 2)  # mapping indent, sequence indent, dash offset: the bundled FAQ's layout


class EditError(ValueError):
    """The file cannot be edited as asked (not a list of entries, unreadable, the entry is not in it)."""


def _yaml(style: tuple[int, int, int] = DEFAULT_STYLE) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1_000_000  # never fold the owner's long answers
    mapping, sequence, offset = style
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _read(path: Path) -> tuple[bytes, str, str]:
    """(the raw bytes, the text with "\\n" line ends, the file's line end)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EditError(f"{path}: not valid UTF-8") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    return raw, text.replace("\r\n", "\n"), newline


def _load(path: Path, text: str) -> CommentedSeq:
    try:
        data = _yaml().load(text) if text.strip() else CommentedSeq()
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise EditError(f"{path}: not valid YAML" + (f" at line {mark.line + 1}" if mark else "")) from None
    if data is None:
        return CommentedSeq()
    if not isinstance(data, CommentedSeq):
        raise EditError(f"{path}: the file must hold a list of entries")
    return data


def _safe(value: Any) -> Any:
    """New strings quoted where the FAQ loader (PyYAML, YAML 1.1) would read them plain as something else
    (``yes``, ``no``, ``on``, ``1:30`` …); ruamel.yaml follows YAML 1.2 and would leave them plain."""
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    if isinstance(value, str) and _RESOLVER.resolve(pyyaml.ScalarNode, value, (True, False)) != _STR:
        return DoubleQuotedScalarString(value)
    return value


_RESOLVER = pyyaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"


def _reading(text: str) -> Any:
    """What the FAQ loader reads in `text` (None when it cannot read it)."""
    try:
        return pyyaml.safe_load(text)
    except pyyaml.YAMLError:
        return None


def _style(data: CommentedSeq, lines: list[str]) -> tuple[int, int, int]:
    """The file's indentation (mapping, sequence, dash offset), read from its block-style answers and questions."""
    mapping = DEFAULT_STYLE[0]
    for entry in data:
        answer = entry.get("answer") if isinstance(entry, CommentedMap) else None
        if isinstance(answer, CommentedMap) and answer and not answer.fa.flow_style():
            mapping = answer.lc.key(next(iter(answer)))[1] - entry.lc.key("answer")[1]
            break
    for entry in data:
        questions = entry.get("questions") if isinstance(entry, CommentedMap) else None
        if isinstance(questions, CommentedSeq) and questions and not questions.fa.flow_style():
            key_col = entry.lc.key("questions")[1]
            line, col = questions.lc.item(0)
            sequence, offset = col - key_col, _dash_col(lines, line, col) - key_col
            if mapping >= 1 and offset >= 0 and sequence >= offset + 2:
                return mapping, sequence, offset
            break
    return (mapping if mapping >= 1 else 2), DEFAULT_STYLE[1], DEFAULT_STYLE[2]


def _dash_col(lines: list[str], line: int, col: int) -> int:
    """The column of the "-" of a block list item whose value starts at (line, col)."""
    return lines[line].rfind("-", 0, col)


def _render(value: Any, style: tuple[int, int, int]) -> str:
    """`value` as a top-level block list item in `style`, its "-" in column 0."""
    out = io.StringIO()
    _yaml(style).dump(CommentedSeq([value]), out, transform=_top_level(style))
    return out.getvalue()


def _top_level(style: tuple[int, int, int]) -> Callable[[str], str]:
    """ruamel indents a top-level list like a nested one; the owner's files start theirs in column 0."""
    offset = style[2]
    return lambda s: "".join(line[offset:] if line.startswith(" " * offset) else line for line in s.splitlines(True))


def _find(data: CommentedSeq, entry_id: str, path: Path) -> CommentedMap:
    for entry in data:
        if isinstance(entry, CommentedMap) and str(entry.get("id")) == entry_id:
            return entry
    raise EditError(f"{path}: no entry {entry_id!r} in the file (was it moved or renamed?)")


def _following(data: CommentedSeq, entry: CommentedMap, key: str, lines: list[str]) -> int:
    """The line where whatever follows ``entry[key]`` starts: the entry's next key, the next entry, or the end."""
    keys = list(entry)
    position = keys.index(key)
    if position + 1 < len(keys):
        return entry.lc.key(keys[position + 1])[0]
    index = next(i for i, e in enumerate(data) if e is entry)
    return data.lc.item(index + 1)[0] if index + 1 < len(data) else len(lines)


def _insert_phrasing(lines: list[str], data: CommentedSeq, entry: CommentedMap, phrasing: str) -> str | None:
    """The file with `phrasing` added after the entry's last question, every other byte unchanged; None
    when the list is laid out in a way this does not handle."""
    questions = entry.get("questions")
    if not isinstance(questions, CommentedSeq) or not questions:
        return None
    if questions.fa.flow_style():
        return _insert_in_flow(lines, questions, phrasing)
    line, col = questions.lc.item(len(questions) - 1)
    dash = _dash_col(lines, line, col)
    if dash < 0 or lines[line][:dash].strip():
        return None
    # after the last question's last line, before the blank lines and comments that lead to what follows
    end = _following(data, entry, "questions", lines)
    while end - 1 > line and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    item = _render(_safe(phrasing), DEFAULT_STYLE).rstrip("\n")
    if "\n" in item:
        return None
    lines = list(lines)
    if not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines.insert(end, " " * dash + item + "\n")
    return "".join(lines)


def _flow_end(text: str, start: int) -> int | None:
    """The index of the "]" closing the flow list that opens at `start`, quoted scalars skipped."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif char == "'":
            i += 1
            while i < len(text) and (text[i] != "'" or text[i + 1:i + 2] == "'"):
                i += 2 if text[i] == "'" else 1
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return i
        elif char == "#" and text[i - 1].isspace():
            return None  # a comment inside the list: refused rather than risk moving it
        i += 1
    return None


def _insert_in_flow(lines: list[str], questions: CommentedSeq, phrasing: str) -> str | None:
    """A phrasing added to a ``[a, b]`` list, before its "]"."""
    text = "".join(lines)
    start = sum(len(line) for line in lines[:questions.lc.line]) + questions.lc.col
    end = _flow_end(text, start)
    if end is None:
        return None
    out = io.StringIO()
    flow = CommentedSeq([_safe(phrasing)])
    flow.fa.set_flow_style()
    _yaml().dump(flow, out)
    item = out.getvalue().strip()[1:-1]
    last = len(text[:end].rstrip())
    return text[:last] + (" " if text[last - 1] == "," else ", ") + item + text[last:]


def _write(path: Path, text: str, newline: str, expected: Any) -> None:
    """Check that the FAQ loader reads exactly `expected` in `text`, then replace the file atomically."""
    if expected is None or _reading(text) != expected:
        raise EditError(f"{path}: the edit could not be written without changing the rest of the file")
    write_atomic(path, text.replace("\n", newline).encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    """Replace (or create) `path` with `data`: a temporary file in the same folder, synced, then renamed."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    # the temporary name does not end in .yaml, so the FAQ watcher never reads a half-written file
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _with_phrasing(reading: Any, entry_id: str, phrasing: str) -> Any:
    """The loader's reading of the file with the phrasing added (None if the entry cannot be found there)."""
    for item in reading if isinstance(reading, list) else ():
        if isinstance(item, dict) and str(item.get("id")) == entry_id and isinstance(item.get("questions"), list):
            item["questions"].append(phrasing)
            return reading
    return None


def add_phrasing(path: Path, entry_id: str, phrasing: str) -> bytes:
    """Append `phrasing` to the ``questions`` of `entry_id` in `path`; returns the file's previous bytes."""
    path = Path(path)
    raw, text, newline = _read(path)
    data = _load(path, text)
    edited = _insert_phrasing(text.splitlines(True), data, _find(data, entry_id, path), phrasing)
    if edited is None:
        raise EditError(f"{path}: the questions of {entry_id!r} are laid out in a way that cannot be added to "
                        "without moving a comment; write them as a list, one question per line")
    _write(path, edited, newline, _with_phrasing(_reading(text), entry_id, phrasing))
    return raw


def add_entry(path: Path, entry: dict[str, Any]) -> bytes | None:
    """Append `entry` (plain data) to the list in `path`, creating the file if needed; returns the
    previous bytes, or None when the file is new."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, NEW_FILE_HEADER + "\n" + _render(_safe(entry), DEFAULT_STYLE), "\n", [entry])
        return None
    raw, text, newline = _read(path)
    data = _load(path, text)
    lines = text.splitlines(True)
    if data and data.fa.flow_style():
        raise EditError(f"{path}: the file is one flow-style list; write its entries one after another")
    if not data:  # comments only, or "[]": keep the comments
        lines = [line for line in lines if not line.strip() or line.lstrip().startswith("#")]
    reading = _reading(text) or []
    body = "".join(lines).rstrip("\n")
    _write(path, body + ("\n\n" if body else "") + _render(_safe(entry), _style(data, lines)), newline,
           [*reading, entry] if isinstance(reading, list) else None)
    return raw


def restore(path: Path, previous: bytes | None) -> None:
    """Put a file back as it was before an edit (None: it did not exist)."""
    path = Path(path)
    if previous is None:
        path.unlink(missing_ok=True)
    else:
        write_atomic(path, previous)
