"""The plugin guide (docs/plugins.md) is the public surface: it shows the example plugins as they are, lists
every hook, every event and every public name, and its own test of a plugin passes."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

from conftest import server_env

import reception.plugin
from reception import hookspecs
from reception.events import catalogue_table

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
FILES = dict(re.findall(r"^<!-- test: file (\S+) -->\n```python\n(.*?)^```", GUIDE, re.M | re.S))


def test_the_guide_shows_the_example_plugins_as_they_are() -> None:
    shown = {path: text for path, text in FILES.items() if path.startswith("plugins/") and "test_" not in path}
    assert sorted(shown) == ["plugins/handover_stats.py", "plugins/minichat.py", "plugins/vip.py"]
    for path, text in shown.items():
        assert text == (ROOT / path).read_text(encoding="utf-8"), f"docs/plugins.md shows an old {path}"


def test_the_guide_lists_every_event_as_the_code_declares_it() -> None:
    assert catalogue_table() in GUIDE, "regenerate the table with reception.events.catalogue_table()"


def test_the_guide_lists_every_hook_and_every_public_name() -> None:
    hooks = [name for name, value in vars(hookspecs).items()
             if inspect.isfunction(value) and hasattr(value, "reception_spec")]
    assert [hook for hook in hooks if f"| `{hook}(" not in GUIDE] == []
    assert [name for name in reception.plugin.__all__ if f"`{name}`" not in GUIDE] == []


def test_the_guides_own_plugin_test_passes(tmp_path: Path) -> None:
    for path in ("plugins/vip.py", "plugins/test_vip.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(FILES[path], encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "plugins/test_vip.py"],
                         cwd=tmp_path, env=server_env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
