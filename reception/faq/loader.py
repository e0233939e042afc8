"""FAQ files: a directory of YAML lists of entries, validated into `FaqEntry` models.

A bad file is refused as a whole with `FaqError`, which names the file, the
entry and what is wrong, so a shop can fix it before the server starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

# Letters and digits of any script, "_", "-" and "." (not only dots): safe in a path and a URL,
# so `发货时间` and `shipping-time` are both ids.
EntryId = Annotated[str, StringConstraints(pattern=r"^(?:\w|[.\-])*[\w\-](?:\w|[.\-])*$", max_length=64)]
Phrasing = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class LocalizedText(BaseModel):
    """An answer written per language; at least one of them."""

    model_config = ConfigDict(extra="forbid")
    zh: str | None = None
    en: str | None = None

    def pick(self, lang: str) -> str:
        """The text in `lang`, falling back to the other language."""
        first, second = (self.zh, self.en) if lang == "zh" else (self.en, self.zh)
        return first or second or ""


class FaqEntry(BaseModel):
    """One FAQ entry: the phrasings buyers use and the answer the bot gives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: EntryId
    questions: list[Phrasing] = Field(min_length=1)
    answer: str | LocalizedText
    handover: bool = False  # answer, then hand the buyer to a human
    group: str | None = None  # agent group to route to when handed over
    tags: list[str] = Field(default_factory=list)

    @field_validator("answer")
    @classmethod
    def _answer_not_empty(cls, value: str | LocalizedText) -> str | LocalizedText:
        if isinstance(value, str) and not value.strip():
            raise ValueError("answer is empty")
        if isinstance(value, LocalizedText) and not (value.zh or value.en):
            raise ValueError("answer needs zh or en")
        return value

    def answer_in(self, lang: str) -> str:
        """The answer text for a buyer writing in `lang` (``zh`` or ``en``)."""
        return self.answer if isinstance(self.answer, str) else self.answer.pick(lang)


class FaqError(ValueError):
    """A refused FAQ file: `str()` names the file, the entry and the reason."""

    def __init__(self, file: Path, entry: str | None, reason: str) -> None:
        self.file, self.entry, self.reason = file, entry, reason
        where = f"{file}" + (f", entry {entry}" if entry else "")
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):  # raised in the simulator's worker processes, so it must survive pickling
        return FaqError, (self.file, self.entry, self.reason)


def _describe(error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "entry"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def load_file(path: Path) -> list[FaqEntry]:
    """Read one YAML file of entries, or raise `FaqError`."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise FaqError(path, None, "not valid UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise FaqError(path, None, f"not valid YAML{where}") from None
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FaqError(path, None, "the file must hold a list of entries")
    entries = []
    for index, item in enumerate(raw):
        label = f"#{index + 1}"
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            label += f" ({item['id']})"
        if not isinstance(item, dict):
            raise FaqError(path, label, "an entry must be a mapping with id, questions and answer")
        try:
            entries.append(FaqEntry.model_validate(item))
        except ValidationError as exc:
            raise FaqError(path, label, _describe(exc)) from None
    return entries


def faq_files(dirs: Sequence[Path], missing_ok: bool = False) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files under `dirs`, in a stable order (`FaqError` for a missing folder)."""
    found: list[Path] = []
    for directory in map(Path, dirs):
        if not directory.is_dir():
            if missing_ok:
                continue
            raise FaqError(directory, None, "FAQ directory not found")
        found.extend(sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
    return found


def load_with_files(*dirs: Path) -> tuple[list[FaqEntry], dict[str, Path]]:
    """Every entry under `dirs` with the file it is written in; ids unique across all, and at least one
    entry when any folder is given."""
    entries: list[FaqEntry] = []
    files: dict[str, Path] = {}
    for path in faq_files(dirs):
        for entry in load_file(path):
            if entry.id in files:
                raise FaqError(path, entry.id, f"duplicate id, first defined in {files[entry.id]}")
            files[entry.id] = path
            entries.append(entry)
    if dirs and not entries:  # no folder at all is a shop without an FAQ: every buyer goes to a person
        raise FaqError(Path(dirs[0]), None, "the FAQ has no entries")
    return entries, files


def load_dir(*dirs: Path) -> list[FaqEntry]:
    """Read every FAQ file under the given directories (`load_with_files` without the files)."""
    return load_with_files(*dirs)[0]
