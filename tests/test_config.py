"""Config files, environment overrides and `reception init`."""

from __future__ import annotations

from pathlib import Path

import pytest

from reception.cli import main
from reception.config import ConfigError, load_settings
from reception.simulate import load_scenario


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reception.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_invalid_value_names_the_field_path(tmp_path):
    path = write(tmp_path, '[[agents]]\nid = "shop:alice"\ntoken = "alice-token"\nmax_concurrent = "many"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert "agents.0.max_concurrent" in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("text,where", [
    ('[bot]\nanswer_threshold = 2\n', "bot.answer_threshold"),
    ('[hours]\ntimezone = "Mars/Olympus"\n', "hours.timezone"),
    ('[hours]\nopen = ["8-23"]\n', "hours.open.0"),
    ('[bot]\nanswr_threshold = 0.4\n', "bot.answr_threshold"),
    ('[admin]\ntoken = "short"\n', "admin.token"),
    ('[bot\n', "not valid TOML"),
])
def test_bad_config_is_refused_with_a_reason(tmp_path, text, where):
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        load_settings(write(tmp_path, text), env={})


def test_environment_overrides_single_values(tmp_path):
    path = write(tmp_path, '[bot]\nanswer_threshold = 0.4\n')
    settings = load_settings(path, env={"RECEPTION_BOT__ANSWER_THRESHOLD": "0.7",
                                        "RECEPTION_WEBHOOK__SECRET": "from-the-env"})
    assert settings.bot.answer_threshold == 0.7
    assert settings.webhook.secret == "from-the-env"
    # the error names the variable that set the value, not the file (issue 12 §6)
    with pytest.raises(ConfigError, match="^RECEPTION_BOT__ANSWER_THRESHOLD: "):
        load_settings(path, env={"RECEPTION_BOT__ANSWER_THRESHOLD": "high"})


def test_tokens_are_kept_only_as_hashes(tmp_path):
    path = write(tmp_path, '[admin]\ntoken = "plain-admin-token"\n')
    settings = load_settings(path, env={})
    assert "plain-admin-token" not in settings.model_dump_json()
    assert "plain-admin-token" not in repr(settings)


def test_init_writes_a_config_and_faq_that_load(tmp_path, capsys):
    assert main(["init", str(tmp_path / "shop")]) == 0
    settings = load_settings(tmp_path / "shop" / "reception.toml", env={})
    assert settings.faq == [tmp_path / "shop" / "faq"]
    assert main(["faq", "check", "--faq", str(tmp_path / "shop" / "faq")]) == 0
    sale = load_scenario(tmp_path / "shop" / "double11.toml")  # the Double 11 rehearsal, on this shop's config
    assert sale.config == tmp_path / "shop" / "reception.toml" and sale.mode == "big_sale"
    assert main(["init", str(tmp_path / "shop")]) == 2
    assert "exists" in capsys.readouterr().err
