"""The ``[plugin.wecom]`` table: the WeCom customer-service account this shop answers, validated at start.

An absent table leaves the channel off (no routes, nothing sent). A present
one is checked field by field with pydantic, and needs the optional
``wecom`` extra (wechatpy, for the message crypto): without it the start
stops with one line saying ``pip install 'reception[wecom]'``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from reception.plugin import ConfigError, Reception, plugin_settings

NAME = "wecom"
EXTRA_HINT = "pip install 'reception[wecom]'"

_Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-@.]+$")]


class WecomSettings(BaseModel):
    """One WeCom customer-service account (微信客服账号) and how to reach WeCom's API."""

    model_config = ConfigDict(extra="forbid")

    corp_id: _Id = Field(description="the company's CorpID (企业ID), e.g. ww1436e0e65a779aee")
    secret: SecretStr = Field(min_length=1, description="the Secret of 微信客服 (API access)")
    token: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9]+$")] = Field(
        description="the callback Token set in the admin console")
    encoding_aes_key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{43}$")] = Field(
        description="the callback EncodingAESKey: 43 letters and digits")
    open_kfid: _Id = Field(description="the customer-service account id (客服账号ID), e.g. wkAJ2GCAAA…")
    api_base: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")] = Field(
        default="https://qyapi.weixin.qq.com", description="WeCom's API (a test points it at an emulator)")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="one API call, at most")
    token_margin_seconds: int = Field(default=300, ge=0, le=3600,
                                      description="refresh the access token this long before it expires")
    pull_on_start: bool = Field(default=True, description="pull once at start what came while the shop was down")
    sync_limit: int = Field(default=1000, ge=1, le=1000, description="messages asked for per kf/sync_msg page")
    max_attempts: int = Field(default=8, ge=1, le=100, description="tries of one message to the buyer")
    retry_base_seconds: float = Field(default=2.0, gt=0, le=3600, description="the first wait between tries")
    retry_max_seconds: float = Field(default=600.0, gt=0, le=86400, description="the longest wait between tries")
    product_pattern: str | None = Field(
        default=None, max_length=500,
        description="a regular expression with one group: the product id in a link's URL or a mini program's "
                    "page path; such a message becomes a product card")

    def api_url(self, path: str) -> str:
        return f"{self.api_base.rstrip('/')}/cgi-bin/{path}"


def load(reception: Reception) -> WecomSettings | None:
    """The validated table, or None when the shop has no ``[plugin.wecom]``; a mistake stops the start."""
    if NAME not in reception.settings.plugin:
        return None
    settings = plugin_settings(reception, NAME, WecomSettings)
    if settings.product_pattern is not None:
        import re

        try:
            groups = re.compile(settings.product_pattern).groups
        except re.error as exc:
            raise ConfigError(f"plugin.{NAME}.product_pattern: not a regular expression: {exc}") from None
        if groups != 1:
            raise ConfigError(f"plugin.{NAME}.product_pattern: needs exactly one group (the product id)")
    return settings
