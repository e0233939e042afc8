"""The sections of ``reception.toml``: one pydantic model per table, unknown keys refused."""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from ..auth import TokenHash

_WINDOW = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
TimeWindow = Annotated[str, StringConstraints(pattern=_WINDOW.pattern)]


class Section(BaseModel):
    """A config table: unknown keys are refused so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")


class AdminSettings(Section):
    token: TokenHash | None = None


class MetricsSettings(Section):
    # bearer token a Prometheus scraper must send for GET /metrics; absent: /metrics is open to anyone
    token: TokenHash | None = None


class WebhookSettings(Section):
    secret: str | None = Field(default=None, min_length=8)
    callback_url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    callback_timeout: float = Field(default=10.0, gt=0, le=120)
    callback_max_attempts: int = Field(default=8, ge=1, le=50)
    # a timestamped signature (t=…,v1=…) more than this far from the server's time is refused (replay)
    signature_tolerance_seconds: int = Field(default=300, ge=1, le=86_400)
    # refuse the plain form (sha256=…) once every integration signs with a timestamp
    require_timestamp: bool = False


WidgetSecret = Annotated[str, StringConstraints(min_length=16, max_length=1024)]


class WebchatSettings(Section):
    # signs buyers' widget tokens (or RECEPTION_WEBCHAT__SECRET); absent: the key file below, made at first start
    secret: WidgetSecret | None = None
    # secrets rotated out: tokens they signed still verify; new tokens are signed with `secret`
    previous_secrets: list[WidgetSecret] = Field(default_factory=list, max_length=20)
    # where the secret lives when `secret` is not set; default: "<database file>.webchat-key", mode 0600
    key_file: Path | None = None
    # a widget token expires this many days after it was issued; the widget renews it after half of that
    token_days: int = Field(default=30, ge=1, le=3650)
    # pages allowed to embed the widget (WebSocket Origin check); empty: any
    allowed_origins: list[str] = Field(default_factory=list)


class AgentSettings(Section):
    id: Annotated[str, StringConstraints(pattern=r"^[^:\s/]{1,64}:[^:\s/]{1,64}$")]
    name: str | None = None
    # the automatic greeting sent when a buyer is assigned ({name} is the agent's name); not a reply
    welcome: str | None = None
    token: TokenHash
    groups: list[str] = Field(default_factory=list)
    max_concurrent: int = Field(default=3, ge=1, le=100)


OrderState = Literal["none", "unpaid", "unshipped", "shipped", "after_sale"]


class RoutingRule(Section):
    """Send a handover to `group` when every condition given matches (first matching rule wins)."""

    group: str
    entries: list[str] = Field(default_factory=list)  # entry points: shop, product, order …
    intents: list[str] = Field(default_factory=list)  # FAQ entries or skills behind the handover
    reasons: list[str] = Field(default_factory=list)  # handover reasons: requested, angry …
    order_states: list[OrderState] = Field(default_factory=list)


class RoutingSettings(Section):
    rules: list[RoutingRule] = Field(default_factory=list)
    # recent contact first: the last agent gets the buyer again within this window …
    recent_contact_days: float = Field(default=3.0, ge=0, le=30)
    # … and even while suspended within this many hours (never while offline)
    recent_contact_suspended_hours: float = Field(default=24.0, ge=0, le=720)
    priority_reasons: list[str] = Field(default_factory=lambda: ["angry"])
    # remind an agent who has not answered a buyer within this time (the platform counts 3 minutes) …
    reply_reminder_seconds: float = Field(default=150.0, gt=0, le=3600)
    # … and give the buyer to another agent after this time
    reassign_seconds: float = Field(default=240.0, gt=0, le=7200)
    # close a conversation nobody wrote in for this long (0: never)
    inactivity_close_minutes: float = Field(default=30.0, ge=0, le=1440)
    # used for queue wait estimates until there are closed conversations to learn from
    default_service_seconds: float = Field(default=300.0, gt=0, le=7200)
    # with this many buyers waiting in a group's queue, the bot takes further ones (0: no limit)
    queue_limit: int = Field(default=0, ge=0, le=100_000)
    # queued buyers up to this position are told when their position changes
    queue_updates_max_position: int = Field(default=10, ge=0, le=1000)
    # how long a closed conversation waits for the buyer's rating
    rating_window_minutes: float = Field(default=60.0, ge=0, le=10080)

    @field_validator("reassign_seconds")
    @classmethod
    def _after_reminder(cls, value: float, info: Any) -> float:
        reminder = info.data.get("reply_reminder_seconds")
        if reminder is not None and value <= reminder:
            raise ValueError("must be longer than reply_reminder_seconds")
        return value


class OfflinePoolSettings(Section):
    """Auto-assignment of the offline message pool (离线消息池), as the platforms run it."""

    enabled: bool = True
    windows: list[TimeWindow] = Field(default_factory=lambda: ["08:00-23:00"])
    interval_minutes: int = Field(default=30, ge=1, le=1440)
    scope: Literal["requested", "all"] = "requested"  # asked for a human, or every bot-touched buyer
    target: Literal["rules", "groups", "agents"] = "rules"
    groups: list[str] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)
    min_agents: int = Field(default=1, ge=1)  # online, not suspended, in the target
    max_pending_per_agent: float | None = Field(default=None, ge=0)
    per_agent: int = Field(default=20, ge=1, le=5000)
    max_age_hours: float = Field(default=24.0, gt=0, le=168)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class WeekPlan(Section):
    """When humans serve: every day's windows, optionally different on some weekdays."""

    open: list[TimeWindow] = Field(default_factory=lambda: ["08:00-23:00"])
    weekly: dict[Weekday, list[TimeWindow]] = Field(default_factory=dict)  # e.g. sun = [] (closed)


class Exception_(Section):
    """A one-off day: these windows instead of the usual ones (empty: closed)."""

    date: date
    open: list[TimeWindow] = Field(default_factory=list)


class HoursSettings(WeekPlan):
    """The service calendar, in the shop's timezone. Windows may run past midnight ("22:00-02:00")."""

    timezone: str = "Asia/Shanghai"
    holidays: list[date] = Field(default_factory=list)  # closed all day
    exceptions: list[Exception_] = Field(default_factory=list)
    groups: dict[str, WeekPlan] = Field(default_factory=dict)  # a group's own week, e.g. after_sales

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("exceptions")
    @classmethod
    def _one_per_day(cls, value: list[Exception_]) -> list[Exception_]:
        days = [e.date for e in value]
        if len(days) != len(set(days)):
            raise ValueError("two exceptions for the same date")
        return value


class AssessmentSettings(Section):
    """The platform's assessment: its window, its time limits and how much volume a rate needs."""

    window: TimeWindow = "08:00-23:00"
    first_reply_seconds: float = Field(default=120.0, gt=0, le=3600)  # the 2-minute first-reply rule
    human_reply_seconds: float = Field(default=180.0, gt=0, le=3600)  # the 3-minute human reply rule
    # a rate over fewer cases than this is reported as null (too few to judge)
    min_volume: int = Field(default=1, ge=1, le=1_000_000)
    # a bot-only session nobody wrote in for this long is over (it counts for the bot resolution rate)
    idle_minutes: float = Field(default=30.0, gt=0, le=1440)
    # intent analytics: the platform's longest range (longer only with allow_long=true), and the TOP n
    intent_max_days: int = Field(default=31, ge=1, le=3660)
    intent_top: int = Field(default=10, ge=1, le=100)


class Period(Section):
    """An optional from–to window for a mode; both ends timezone-aware, the end after the start."""

    start: datetime | None = Field(default=None, alias="from")
    end: datetime | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("from/to need a timezone, e.g. 2026-11-10T20:00:00+08:00")
        if self.start and self.end and self.end <= self.start:
            raise ValueError("'to' must be after 'from'")
        return self

    def covers(self, now: datetime) -> bool:
        return (self.start is None or now >= self.start) and (self.end is None or now < self.end)


class LocalizedNote(Section):
    zh: str = Field(min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)


class SwitchSettings(Period):
    """A mode that is on when enabled and, if a window is given, inside it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    enabled: bool = False

    def active(self, now: datetime) -> bool:
        return self.enabled and self.covers(now)


class AlertThresholds(Section):
    """Limits on the previous hour's figures; a figure past its limit raises an alert."""

    first_reply_2min_min: float | None = Field(default=None, ge=0, le=1)
    human_reply_3min_min: float | None = Field(default=None, ge=0, le=1)
    non_service_max: float | None = Field(default=None, ge=0, le=1)


class AlertSettings(AlertThresholds):
    """Alerts on the assessment figures, checked three minutes past every hour for the hour before."""

    enabled: bool = True
    first_reply_2min_min: float | None = Field(default=0.8, ge=0, le=1)
    human_reply_3min_min: float | None = Field(default=0.8, ge=0, le=1)
    non_service_max: float | None = Field(default=0.1, ge=0, le=1)
    min_requests: int = Field(default=3, ge=1)  # fewer human requests in the hour: no judgement
    webhook_url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None


class BigSaleSettings(SwitchSettings):
    """Big-sale mode (大促): while active, these values replace the everyday ones; unset ones stay."""

    max_concurrent: int | None = Field(default=None, ge=1, le=100)  # per agent
    queue_limit: int | None = Field(default=None, ge=0, le=100_000)
    queue_note: LocalizedNote | None = None  # added to every queue message, e.g. the sale's expected waits
    pool_interval_minutes: int | None = Field(default=None, ge=1, le=1440)
    faq: list[Path] = Field(default_factory=list)  # extra FAQ folders: sale rules, pre-sale dates, delays
    answer_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    alerts: AlertThresholds | None = None  # alert limits in force during the sale


class SentimentSettings(Section):
    # the shop's own words of an upset buyer, any language, added to the built-in lexicon
    angry_words: list[Annotated[str, StringConstraints(min_length=1, max_length=50)]] = Field(default_factory=list)


def default_cache_dir() -> str:
    """``$XDG_CACHE_HOME/reception``, else ``~/.cache/reception``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "reception")


class BotSettings(Section):
    # the share of wrong answers the bot may expect: its threshold is calibrated on the FAQ to stay under it
    max_wrong_share: float = Field(default=0.05, gt=0.0, le=0.5)
    # a fixed confidence an answer needs, instead of the calibrated threshold
    answer_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    # sentence vectors (pip install 'reception[semantic]') as more evidence: "auto" uses them when installed
    semantic: Literal["auto", "on", "off"] = "auto"
    # how often the FAQ folders are checked for edits, in seconds (0: only on SIGHUP or a dashboard edit)
    watch_seconds: float = Field(default=2.0, ge=0, le=3600)
    repeat_similarity: float = Field(default=90.0, ge=50.0, le=100.0)
    # where the FAQ's sentence vectors and calibration are kept between starts, by content (reception.faq.diskcache);
    # "" keeps nothing
    cache_dir: str = Field(default_factory=default_cache_dir, max_length=4096)


DATABASE_SCHEMES = ("postgresql", "postgres", "sqlite")


def hide_password(url: str) -> str:
    """`url` with its password shown as ``***`` (in the address or as a ``password=`` parameter)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


class StoreSettings(Section):
    # the database: postgresql://USER:PASSWORD@HOST/DB (or postgres://…) for PostgreSQL, several instances of
    # the shop on one database; sqlite:///FILE for a SQLite file (as `path`); absent: the SQLite file `path`
    url: str | None = None
    path: Path = Path("reception.db")
    # FULL: a batch is on stable storage before any handler in it answers (PostgreSQL: NORMAL turns its
    # synchronous_commit off)
    synchronous: Literal["FULL", "NORMAL"] = "FULL"
    batch_max: int = Field(default=256, ge=1, le=10_000)
    # PostgreSQL: the connections each instance opens at most (the writer uses one at a time; reads and reports
    # the rest), so the server's max_connections must cover pool_size (and the cluster's few) per instance
    pool_size: int = Field(default=10, ge=2, le=1000)
    # privacy: messages, orders and buyer ids older than this many days are erased daily, the anonymous
    # figures kept (reception.privacy); absent: kept for ever
    retain_days: int | None = Field(default=None, ge=1, le=36_500)

    @field_validator("path", mode="before")
    @classmethod
    def _a_file(cls, path: Any) -> Any:
        if isinstance(path, str) and "://" in path:
            raise ValueError(f"{hide_password(path)!r} is a URL: [store] path is the SQLite file; a database URL goes"
                             " in [store] url (RECEPTION_STORE__URL)")
        return path

    @field_validator("url")
    @classmethod
    def _supported(cls, url: str | None) -> str | None:
        if url is None:
            return None
        scheme, found, rest = url.partition("://")
        if not found or scheme.lower() not in DATABASE_SCHEMES:
            raise ValueError(f"unsupported database URL {hide_password(url)!r}: use postgresql://USER:PASSWORD@HOST/DB"
                             " or sqlite:///FILE")
        if scheme.lower() == "sqlite" and (not rest.startswith("/") or rest == "/"):
            raise ValueError(f"{url!r}: a SQLite URL names its file after three slashes: sqlite:///shop.db"
                             " (relative) or sqlite:////var/lib/shop.db")
        return url

    @model_validator(mode="after")
    def _sqlite_url(self) -> "StoreSettings":
        # sqlite:///FILE is the file `path` (as SQLAlchemy reads it: four slashes for an absolute path)
        if self.url is not None and self.url.lower().startswith("sqlite://"):
            self.path, self.url = Path(self.url[len("sqlite:///"):]), None
        return self

    @property
    def kind(self) -> Literal["sqlite", "postgresql"]:
        return "sqlite" if self.url is None else "postgresql"

    @property
    def shown(self) -> str:
        """The database, for people: the file, or the URL without its password."""
        return str(self.path) if self.url is None else hide_password(self.url)


class MediaSettings(Section):
    """``[media]``: photos in messages (reception.media): where the files live and the limits of an upload."""

    # the folder of the files; default: "<database file>.media" beside a SQLite file, "reception-media" beside
    # the config on PostgreSQL. Several instances of a shop: the same path on shared storage (docs/deploy.md)
    dir: Path | None = None
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    # a decoded image larger than this is refused (decompression bombs); 50 MP covers a 48 MP phone photo
    max_pixels: int = Field(default=50_000_000, ge=10_000, le=200_000_000)
    thumb_size: int = Field(default=320, ge=64, le=1024)  # the thumbnail's longer side, in pixels
    # photos one chat-widget buyer may send a minute (that many at once, then one every 60/N s); more: 429
    buyer_photos_per_minute: int = Field(default=6, ge=1, le=600)
    # photos decoded at once (each may take hundreds of MB while it is decoded); the others wait
    workers: int = Field(default=2, ge=1, le=16)
    # an image_url fetch gives up after this many seconds (connect, redirects and body together)
    fetch_timeout: float = Field(default=10.0, gt=0, le=60)
    fetch_max_redirects: int = Field(default=3, ge=0, le=10)
    # fetch image_url from loopback, private and link-local addresses too: only for a shop whose image host is
    # on its own network and whose webhook callers are trusted (SSRF: docs/security.md)
    fetch_private: bool = False


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # a connection that has not finished a request's headers this long after it opened (or after its last
    # answer: an idle keep-alive connection) is closed
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    # "json": one JSON object per log line (time, level, logger, message, request_id); `serve --log-format`
    log_format: Literal["text", "json"] = "text"
    # the demo shop (`reception serve` with no config): the pages say its admin token is printed at start
    demo: bool = False


class PluginsSettings(Section):
    """``[plugins]``: which installed plugins not to load."""

    # plugins not loaded, by the names `reception plugins` lists (defaults, entry points, plugins-dir files);
    # in the environment a JSON list or commas: RECEPTION_PLUGINS__DISABLED="minichat,reception.stats"
    disabled: list[str] = Field(default_factory=list)

    @field_validator("disabled", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value
