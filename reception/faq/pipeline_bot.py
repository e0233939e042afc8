"""The bot under test in the FAQ benchmark, through the real pipeline.

`PipelineResponder` starts the real application (`create_app`) on a
temporary SQLite file with the benchmark's FAQ written as YAML, and sends
every message as a fresh buyer through `Reception.receive`: the FAQ bot, every
handover vote and the router (no agents, so handovers go to the offline
pool) take part, exactly as for a shop's buyers.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import yaml
from aiohttp import web
from pydantic import ValidationError

from ..config import load_settings
from ..core import RECEPTION, Reception
from ..models import Inbound
from .bot import in_force
from .loader import FaqEntry


class PipelineResponder:
    """One message per fresh buyer through `Reception.receive`; ``aclose`` stops the app."""

    def __init__(self, runner: web.AppRunner, reception: Reception, workdir: Path) -> None:
        self._runner, self._reception, self._workdir = runner, reception, workdir
        self._buyers = itertools.count()
        fixed = reception.settings.bot.answer_threshold
        self.thresholds = {lang: fixed if fixed is not None else c.threshold
                           for lang, c in in_force(reception).calibration.languages.items()}

    @classmethod
    async def start(cls, entries: Sequence[FaqEntry], threshold: float | None = None,
                    semantic: str = "off") -> "PipelineResponder":
        from ..app import create_app

        workdir = Path(tempfile.mkdtemp(prefix="reception-eval-"))
        (workdir / "faq").mkdir()
        rows = [e.model_dump(mode="json", exclude_defaults=True) for e in entries]
        (workdir / "faq" / "benchmark.yaml").write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
        overrides: dict[str, object] = {
            "faq": [str(workdir / "faq")],
            # the benchmark measures answers, not durability: NORMAL spares an fsync per message
            "store": {"path": str(workdir / "eval.db"), "synchronous": "NORMAL"},
            "offline_pool": {"enabled": False},
        }
        overrides["bot"] = {"semantic": semantic, **({"answer_threshold": threshold} if threshold is not None else {})}
        app = create_app(load_settings(None, env={}, overrides=overrides))
        runner = web.AppRunner(app)
        await runner.setup()
        return cls(runner, app[RECEPTION], workdir)

    async def respond(self, text: str) -> tuple[str, str]:
        try:
            inbound = Inbound(channel="webhook", customer_id=f"eval-{next(self._buyers)}", text=text)
        except ValidationError:
            return "handover", "invalid"
        outcome = await self._reception.receive(inbound)
        if outcome.handover is not None:
            return "handover", outcome.handover.reason
        answer = next((r for r in outcome.replies if r.sender == "bot"), None)
        return ("answer", answer.intent or "") if answer else ("handover", "none")

    async def aclose(self) -> None:
        await self._runner.cleanup()
        shutil.rmtree(self._workdir, ignore_errors=True)
