"""Settings: `reception.toml` read into pydantic models, with `RECEPTION_*` environment overrides.

`load_settings` is the only way in. An invalid file stops the start with a
`ConfigError` naming the field path (``agents.0.max_concurrent``) and the reason.
Tokens are hashed as soon as they are read; plain tokens are never kept. The
tables themselves are in `sections`.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

from pydantic import Field, ValidationError, field_validator, model_validator

from .sections import (
    AdminSettings,
    AgentSettings,
    AlertSettings,
    AssessmentSettings,
    BigSaleSettings,
    BotSettings,
    HoursSettings,
    MediaSettings,
    MetricsSettings,
    OfflinePoolSettings,
    PluginsSettings,
    RoutingSettings,
    Section,
    SentimentSettings,
    ServerSettings,
    StoreSettings,
    SwitchSettings,
    WebchatSettings,
    WebhookSettings,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
BUNDLED_FAQ = PROJECT_ROOT / "faq"
ENV_PREFIX = "RECEPTION_"
# RECEPTION_* variables that are not settings: the config file's path, the plugin trace switch (reception.hooks)
NOT_SETTINGS = frozenset({ENV_PREFIX + "CONFIG", ENV_PREFIX + "TRACE_PLUGINS"})

__all__ = ["BUNDLED_FAQ", "AssessmentSettings", "ConfigError", "HoursSettings", "Settings", "SwitchSettings",
           "describe_errors", "load_settings", "read_toml"]


class Settings(Section):
    """The whole configuration of one shop."""

    admin: AdminSettings = Field(default_factory=AdminSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    webchat: WebchatSettings = Field(default_factory=WebchatSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    agents: list[AgentSettings] = Field(default_factory=list)
    hours: HoursSettings = Field(default_factory=HoursSettings)
    assessment: AssessmentSettings = Field(default_factory=AssessmentSettings)
    big_sale: BigSaleSettings = Field(default_factory=BigSaleSettings)
    penalty: SwitchSettings = Field(default_factory=SwitchSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    sentiment: SentimentSettings = Field(default_factory=SentimentSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    offline_pool: OfflinePoolSettings = Field(default_factory=OfflinePoolSettings)
    faq: list[Path] = Field(default_factory=lambda: [BUNDLED_FAQ])
    store: StoreSettings = Field(default_factory=StoreSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    plugins_dir: Path | None = None
    plugins: PluginsSettings = Field(default_factory=PluginsSettings)  # [plugins] disabled = ["name"]
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

    @model_validator(mode="after")
    def _known_groups_and_agents(self) -> "Settings":
        groups = {g for agent in self.agents for g in agent.groups}
        agents = {agent.id for agent in self.agents}
        for i, rule in enumerate(self.routing.rules):
            if rule.group not in groups:
                raise ValueError(f"routing.rules.{i}.group: no agent is in group {rule.group!r}")
        for group in self.offline_pool.groups:
            if group not in groups:
                raise ValueError(f"offline_pool.groups: no agent is in group {group!r}")
        for agent in self.offline_pool.agents:
            if agent not in agents:
                raise ValueError(f"offline_pool.agents: unknown agent {agent!r}")
        return self

    def group_names(self) -> set[str]:
        """Every agent group named in the config."""
        return {g for agent in self.agents for g in agent.groups}


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


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """`RECEPTION_BOT__ANSWER_THRESHOLD=0.6` sets ``bot.answer_threshold``; returns {field path: variable}."""
    applied: dict[tuple[str, ...], str] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
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
        applied[tuple(path)] = name
    return applied


def describe_errors(error: ValidationError) -> str:
    """One line per invalid field: ``path.to.field: reason``."""
    lines = []
    for err in error.errors():
        path = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {message}" if path else message)
    return "; ".join(lines)


def _describe_sources(error: ValidationError, source: str, from_env: dict[tuple[str, ...], str]) -> str:
    """Like `describe_errors`, each error under its source: the environment variable that set the field
    (``RECEPTION_BOT__ANSWER_THRESHOLD: …``), else the file (``reception.toml: bot.answer_threshold: …``)."""
    parts = []
    for err in error.errors():
        loc = tuple(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        path = ".".join(loc)
        found = next(((key, name) for key, name in from_env.items() if loc[:len(key)] == key), None)
        if found is None:
            parts.append(f"{source}: {path}: {message}" if path else f"{source}: {message}")
        elif len(loc) > len(found[0]):
            parts.append(f"{found[1]}: {path}: {message}")  # inside a JSON list or table: say where
        else:
            parts.append(f"{found[1]}: {message}")
    return "; ".join(parts)


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; a missing, undecodable or malformed file is a `ConfigError` naming it."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


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
        data = read_toml(path)
        base = path.resolve().parent
    from_env = _apply_env(data, env)
    for key, value in (overrides or {}).items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
        # a command-line override replaces what the environment set there
        from_env = {k: v for k, v in from_env.items()
                    if k[0] != key or (isinstance(value, dict) and (len(k) < 2 or k[1] not in value))}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe_sources(exc, str(path) if path else "configuration", from_env)) from None
    settings.store.path = base / settings.store.path
    settings.faq = [base / p for p in settings.faq]
    settings.big_sale.faq = [base / p for p in settings.big_sale.faq]
    if settings.plugins_dir is not None:
        settings.plugins_dir = base / settings.plugins_dir
    if settings.webchat.key_file is not None:
        settings.webchat.key_file = base / settings.webchat.key_file
    if settings.media.dir is not None:
        settings.media.dir = base / settings.media.dir
    return settings
