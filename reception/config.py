"""Settings: `reception.toml` read into pydantic models, with `RECEPTION_*` environment overrides.

`load_settings` is the only way in. An invalid file stops the start with a
`ConfigError` naming the field path (``agents.0.max_concurrent``) and the reason.
Tokens are hashed as soon as they are read; plain tokens are never kept.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from .auth import TokenHash

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_FAQ = PROJECT_ROOT / "faq"
ENV_PREFIX = "RECEPTION_"

_WINDOW = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
TimeWindow = Annotated[str, StringConstraints(pattern=_WINDOW.pattern)]


class Section(BaseModel):
    """A config table: unknown keys are refused so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")


class AdminSettings(Section):
    token: TokenHash | None = None


class WebhookSettings(Section):
    secret: str | None = Field(default=None, min_length=8)
    callback_url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    callback_timeout: float = Field(default=10.0, gt=0, le=120)
    callback_max_attempts: int = Field(default=8, ge=1, le=50)


class AgentSettings(Section):
    id: Annotated[str, StringConstraints(pattern=r"^[^:\s]{1,64}:[^:\s]{1,64}$")]
    name: str | None = None
    token: TokenHash
    groups: list[str] = Field(default_factory=list)
    max_concurrent: int = Field(default=3, ge=1, le=100)


class HoursSettings(Section):
    timezone: str = "Asia/Shanghai"
    open: list[TimeWindow] = Field(default_factory=lambda: ["08:00-23:00"])

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value


class AssessmentSettings(Section):
    window: TimeWindow = "08:00-23:00"


class SwitchSettings(Section):
    enabled: bool = False


class BotSettings(Section):
    answer_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    repeat_similarity: float = Field(default=90.0, ge=50.0, le=100.0)


class StoreSettings(Section):
    path: Path = Path("reception.db")
    # FULL: a batch is on stable storage before any handler in it answers
    synchronous: Literal["FULL", "NORMAL"] = "FULL"
    batch_max: int = Field(default=256, ge=1, le=10_000)


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class Settings(Section):
    """The whole configuration of one shop."""

    admin: AdminSettings = Field(default_factory=AdminSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    agents: list[AgentSettings] = Field(default_factory=list)
    hours: HoursSettings = Field(default_factory=HoursSettings)
    assessment: AssessmentSettings = Field(default_factory=AssessmentSettings)
    big_sale: SwitchSettings = Field(default_factory=SwitchSettings)
    penalty: SwitchSettings = Field(default_factory=SwitchSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    faq: list[Path] = Field(default_factory=lambda: [BUNDLED_FAQ])
    store: StoreSettings = Field(default_factory=StoreSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    plugins_dir: Path | None = None
    # [plugin.NAME] tables: each plugin validates its own with pydantic at start
    plugin: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("agents")
    @classmethod
    def _unique_agents(cls, agents: list[AgentSettings]) -> list[AgentSettings]:
        seen = set()
        for agent in agents:
            if agent.id in seen:
                raise ValueError(f"duplicate agent id {agent.id!r}")
            seen.add(agent.id)
        return agents


class ConfigError(ValueError):
    """An unusable configuration; the message names the source, the field path and the reason."""


def _env_value(raw: str) -> Any:
    # JSON lists and tables pass through; everything else stays a string for pydantic to coerce
    if raw[:1] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> None:
    """`RECEPTION_BOT__ANSWER_THRESHOLD=0.6` sets ``bot.answer_threshold``."""
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX):].split("__") if part]
        if not path:
            continue
        node = data
        for key in path[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{name}: {'.'.join(path)} is not a table")
            node = child
        node[path[-1]] = _env_value(raw)


def describe_errors(error: ValidationError) -> str:
    """One line per invalid field: ``path.to.field: reason``."""
    lines = []
    for err in error.errors():
        path = ".".join(str(part) for part in err["loc"]) or "(root)"
        lines.append(f"{path}: {err['msg']}")
    return "; ".join(lines)


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read `path` (optional), apply environment overrides, then `overrides`; validate.

    Relative paths in the file (``store.path``, ``faq``) are taken relative to the file.
    """
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: file not found") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not valid UTF-8") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        base = path.resolve().parent
    _apply_env(data, env)
    for key, value in (overrides or {}).items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        source = str(path) if path else "configuration"
        raise ConfigError(f"{source}: {describe_errors(exc)}") from None
    settings.store.path = base / settings.store.path
    settings.faq = [base / p for p in settings.faq]
    if settings.plugins_dir is not None:
        settings.plugins_dir = base / settings.plugins_dir
    return settings
