"""A simulation scenario (``SCENARIO.toml``): the day's traffic, the buyers' behaviour, the agents and the mode.

Validated with pydantic; an unusable file is a `ConfigError` naming the field.
Times of day are local to the shop (``[hours] timezone`` of its config).
"""

from __future__ import annotations

from datetime import date as Date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from ..config import ConfigError, describe_errors, read_toml

TimeOfDay = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
Phrase = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Buyers(Part):
    """Who writes and how they behave."""

    routine_share: float = Field(default=0.7, ge=0, le=1)  # ask a question from the shop's FAQ
    human_share: float = Field(default=0.15, ge=0, le=1)  # ask for a person straight away
    zh_share: float = Field(default=0.85, ge=0, le=1)  # write in Chinese (else English)
    human_after_answer: float = Field(default=0.08, ge=0, le=1)  # answered by the bot, ask for a person anyway
    patience_seconds: float = Field(default=180, gt=0, le=7200)  # then they nudge ("还在吗") and grow unhappy
    turns: float = Field(default=1.5, ge=0, le=20)  # further messages to the agent after the first reply (mean)
    turn_gap_seconds: float = Field(default=40, gt=0, le=3600)  # from an agent's reply to the buyer's next message
    rating_share: float = Field(default=0.4, ge=0, le=1)  # rate the agent when asked
    unhappy_if_late: float = Field(default=0.5, ge=0, le=1)  # dissatisfied when a person answered after patience
    unhappy_otherwise: float = Field(default=0.05, ge=0, le=1)
    # questions the FAQ does not cover (the bot should hand these over); bundled ones when empty
    other_questions: list[Phrase] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shares(self) -> "Buyers":
        if self.routine_share + self.human_share > 1:
            raise ValueError("routine_share + human_share must not exceed 1")
        return self


class Agents(Part):
    """How the simulated agents work."""

    reply_seconds: float = Field(default=25, gt=0, le=1800)  # mean time to answer a buyer's message
    wrap_seconds: float = Field(default=30, ge=0, le=3600)  # from the last reply to closing
    max_concurrent: int | None = Field(default=None, ge=1, le=100)  # default: the shop's (or the sale's) maximum
    group: str | None = None  # the agents' one group; default: every group in the shop's config


class Shift(Part):
    """`agents` people online from `start` to `end` (local time; an end before the start runs past midnight)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    agents: int = Field(ge=0, le=1000)
    start: TimeOfDay = Field(alias="from")
    end: TimeOfDay = Field(alias="to")

    def minutes(self) -> tuple[int, int]:
        a, b = (int(v[:2]) * 60 + int(v[3:]) for v in (self.start, self.end))
        return a, b if b > a else b + 1440


class Targets(Part):
    """The figures the staffing advice must keep; default: the shop's alert limits."""

    first_reply_2min_rate: float | None = Field(default=None, gt=0, le=1)
    non_service_rate: float | None = Field(default=None, ge=0, lt=1)


class Scenario(Part):
    """One simulated day."""

    name: str = Field(default="simulated day", min_length=1, max_length=200)
    date: Date = Date(2026, 11, 11)
    seed: int = 1
    mode: Literal["normal", "big_sale", "penalty"] = "normal"
    config: Path | None = None  # the shop's reception.toml (FAQ, hours, routing, big-sale settings)
    arrivals: list[float] = Field(min_length=24, max_length=24)  # conversations per local hour on a normal day
    multiplier: float = Field(default=1.0, gt=0, le=1000)  # a sale is a multiple of a normal day
    buyers: Buyers = Field(default_factory=Buyers)
    agents: Agents = Field(default_factory=Agents)
    shifts: list[Shift] = Field(default_factory=list, max_length=100)
    targets: Targets = Field(default_factory=Targets)

    @model_validator(mode="after")
    def _sane(self) -> "Scenario":
        if any(v < 0 for v in self.arrivals):
            raise ValueError("arrivals: conversations per hour cannot be negative")
        if sum(self.arrivals) * self.multiplier > 2_000_000:
            raise ValueError("arrivals: more than 2,000,000 conversations in a day")
        return self

    def hourly(self) -> list[int]:
        """Conversations starting in each local hour."""
        return [round(v * self.multiplier) for v in self.arrivals]

    def scaled_to(self, conversations: int) -> "Scenario":
        """The same day with `conversations` in all, and the agents scaled with them."""
        total = sum(self.hourly())
        if total <= 0:
            raise ConfigError("arrivals: the scenario has no conversations to scale")
        factor = conversations / total
        shifts = [s.model_copy(update={"agents": max(1, round(s.agents * factor)) if s.agents else 0})
                  for s in self.shifts]
        return self.model_copy(update={"multiplier": self.multiplier * factor, "shifts": shifts})

    def staffing(self) -> list[int]:
        """Agents on shift in each local hour (anyone on shift for part of the hour counts)."""
        out = [0] * 24
        for shift in self.shifts:
            start, end = shift.minutes()
            for hour in range(24):
                for day in (0, 1440):  # a shift past midnight covers the small hours
                    lo, hi = hour * 60 + day, hour * 60 + 60 + day
                    if start < hi and end > lo:
                        out[hour] += shift.agents
                        break
        return out


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario; relative `config` paths are taken relative to the scenario file."""
    data = read_toml(path)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_errors(exc)}") from None
    if scenario.config is not None and not scenario.config.is_absolute():
        scenario.config = Path(path).resolve().parent / scenario.config
    return scenario
