"""The manual: the site builds with no warning, and the commands it shows run and answer as shown.

The blocks a test runs are marked in README.md and docs/*.md by an HTML comment on the line above
them (invisible on GitHub and in the site), so the tests read the docs, not a copy:

    <!-- test: shell -->      one command a line (`reception …`, `sqlite3 …`); the `# …` lines after a
                              command are lines of its output, in order, `…` standing for anything
    <!-- test: file PATH -->  the block is written to PATH before the page's commands run
    <!-- test: demo -->       curl calls to the demo shop (`make run`), sent with aiohttp to a real
                              `reception serve`; every `"field": value` in the `# …` lines after a call
                              must be in its JSON answer (`"…"` any value, `…` inside one: anything there)

Each page runs in a directory of its own, its blocks in order.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from reception.app import create_app
from reception.testing import make_settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
CLI = [sys.executable, "-m", "reception.cli"]
BLOCK = re.compile(r"^<!-- test: (?P<kind>shell|file|demo)(?P<rest>[^>]*)-->\n```[^\n]*\n(?P<body>.*?)^```",
                   re.M | re.S)
DEMO_HOST = re.compile(r"^(https?://)?(localhost|127\.0\.0\.1):8080")
FIELD = re.compile(r'"(?P<key>\w+)":\s*(?P<value>"(?:[^"\\]|\\.)*"|null|true|false|-?[\d.]+…?|[\[{])')


def blocks(page: Path, kind: str) -> list[tuple[str, str]]:
    """(argument, text) of the blocks of `kind` in `page`, in order."""
    return [(m["rest"].strip(), m["body"]) for m in BLOCK.finditer(page.read_text(encoding="utf-8"))
            if m["kind"] == kind]


def commands(text: str) -> list[tuple[str, list[str]]]:
    """(command, the output lines shown after it) for each command of a block; `\\` continues a line."""
    result: list[tuple[str, list[str]]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if pending:
            line, pending = pending + " " + line, ""
        if line.endswith("\\"):
            pending = line[:-1].strip()
        elif line.startswith("#"):
            assert result, f"output shown before any command: {line!r}"
            result[-1][1].append(line[1:].strip())
        elif line:
            result.append((line, []))
    return result


def pages_with(*kinds: str) -> list[Path]:
    """The pages with blocks of `kinds`, less those whose blocks are the same as an earlier page's (the tour is
    both in README.md and docs/index.md)."""
    seen, pages = set(), []
    for page in PAGES:
        key = tuple((kind, *block) for kind in kinds for block in blocks(page, kind))
        if blocks(page, kinds[-1]) and key not in seen:
            seen.add(key)
            pages.append(page)
    return pages


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}
    # loading the sentence encoder costs each command about 6 s on this machine; test_semantic covers it
    env["RECEPTION_BOT__SEMANTIC"] = "off"
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's banner about its successor
    return env


def assert_shown(shown: list[str], output: str, where: str) -> None:
    """Each shown line matches a line of `output`, in order; `…` in a shown line stands for anything."""
    lines = output.splitlines()
    at = 0
    for want in shown:
        parts = [part for part in want.split("…") if part.strip()]
        if not parts:
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in parts))
        for i in range(at, len(lines)):
            if pattern.search(lines[i]):
                at = i + 1
                break
        else:
            raise AssertionError(f"{where}: the docs show {want!r}, the output was:\n{output}")


# ---------------------------------------------------------------------------------------------- the site


def test_the_site_builds_strict_with_every_image(tmp_path):
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(site)], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    log = done.stdout + done.stderr
    assert done.returncode == 0 and "WARNING" not in log, log
    shown = set()
    for html in site.rglob("*.html"):
        for src in re.findall(r'<img[^>]* src="([^"]+)"', html.read_text(encoding="utf-8")):
            if not src.startswith(("http:", "https:", "data:")):
                assert (html.parent / src).resolve().is_file(), f"{html.relative_to(site)}: no {src}"
                shown.add(Path(src).name)
    assert {p.name for p in DOCS.glob("*.png")} <= shown, "a screenshot in docs/ that no page shows"
    # the README is outside the site, so mkdocs does not check its links into it: check them here
    for target, anchor in re.findall(r"\]\(docs/([\w-]+)\.md(?:#([^)]+))?\)", (ROOT / "README.md").read_text("utf-8")):
        page = site / ("" if target == "index" else target) / "index.html"
        assert page.is_file(), f"README.md links to docs/{target}.md, which the site lacks"
        assert not anchor or f'id="{anchor}"' in page.read_text(encoding="utf-8"), \
            f"README.md links to docs/{target}.md#{anchor}, which has no such heading"


def test_the_docs_mark_the_commands_a_newcomer_types():
    """Removing a marker must not quietly stop a documented command from being run."""
    shell = [cmd for page in PAGES for _, text in blocks(page, "shell") for cmd, _ in commands(text)]
    for needed in ("reception init ", "reception faq check --faq ", "reception serve --config ", "reception plugins"):
        assert any(needed in cmd for cmd in shell), needed
    calls = [cmd for _, text in blocks(ROOT / "README.md", "demo") for cmd, _ in commands(text)]
    assert sum("/api/v1/webhook/messages" in cmd for cmd in calls) >= 2, calls


# --------------------------------------------------------------------------------- shell commands


async def _run(argv: list[str], cwd: Path, where: str) -> str:
    proc = await asyncio.create_subprocess_exec(*argv, cwd=cwd, env=_env(), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    text = out.decode()
    assert proc.returncode == 0, f"{where}: exit status {proc.returncode}\n{text}"
    return text


async def _serve(argv: list[str], cwd: Path, where: str) -> str:
    """Start the server as shown, check it answers, stop it with SIGTERM; its output."""
    proc = await asyncio.create_subprocess_exec(*argv, "--port", "0", cwd=cwd, env=_env(),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    try:
        while not lines or not lines[-1].startswith("mode:"):
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, f"{where}: the server stopped\n{''.join(lines)}{(await proc.stderr.read()).decode()}"
            lines.append(line)
        url = next(line for line in lines if "http://" in line)
        url = url[url.index("http://"):].split()[0]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/healthz") as response:
                assert response.status == 200, where
        proc.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, f"{where}: exit status {proc.returncode}"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    port = url.rsplit(":", 1)[1]
    return "".join(lines).replace(f":{port} ", ":8080 ") + rest.decode()


@pytest.mark.parametrize("page", pages_with("file", "shell"), ids=page_id)
async def test_the_shell_commands_shown_run_as_shown(page, tmp_path):
    for path, text in blocks(page, "file"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    for _, text in blocks(page, "shell"):
        for command, shown in commands(text):
            where = f"{page_id(page)}: {command}"
            argv = shlex.split(command, comments=True)
            if Path(argv[0]).name == "reception":
                argv = CLI + argv[1:]
            elif argv[0] == "sqlite3":
                if shutil.which("sqlite3") is None:
                    pytest.skip("no sqlite3 shell (make system-packages installs it)")
            else:
                pytest.fail(f"{where}: the test cannot run {argv[0]!r}; unmark the block or teach the test")
            serve = argv[:len(CLI)] == CLI and argv[len(CLI)] == "serve"
            output = await (_serve if serve else _run)(argv, tmp_path, where)
            assert_shown(shown, output, where)


# ------------------------------------------------------------------------------------ the demo shop


def _pairs(value: Any, key: str | None = None):
    """Every (key, value) in a JSON value, at any depth."""
    if key is not None:
        yield key, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _pairs(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _pairs(v)


def _matches(shown: str, actual: Any) -> bool:
    if shown in "[{":
        return isinstance(actual, list if shown == "[" else dict)
    if shown in ("null", "true", "false"):
        return actual == json.loads(shown)
    if shown.startswith('"'):
        parts = [part for part in json.loads(shown).split("…") if part]
        return isinstance(actual, str) and re.search(".*".join(map(re.escape, parts)), actual, re.S) is not None
    if shown.endswith("…"):
        return isinstance(actual, (int, float)) and str(actual).startswith(shown[:-1])
    return actual == json.loads(shown)


def _curl(command: str, base: str, token: str, conversation: str | None) -> tuple[str, str, dict, bytes | None]:
    for placeholder, value in (("$ADMIN", token), ("<token>", token), ("<id>", conversation or "")):
        command = command.replace(placeholder, value)
    args = iter(shlex.split(command, comments=True))
    assert next(args) == "curl", command
    method, url, headers, data = None, None, {}, None
    for arg in args:
        if arg == "-s":
            continue
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            data = next(args).encode()
        elif arg.startswith("-"):
            raise AssertionError(f"the test does not know curl's {arg}: {command}")
        else:
            url = DEMO_HOST.sub(base, arg)
    assert url and url.startswith(base), f"not a call to the demo shop: {command}"
    return method or ("POST" if data is not None else "GET"), url, headers, data


@pytest.mark.parametrize("page", pages_with("demo"), ids=page_id)
async def test_the_demo_calls_shown_answer_as_shown(page, tmp_path):
    proc = await asyncio.create_subprocess_exec(*CLI, "serve", "--port", "0", cwd=tmp_path, env=_env(),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        token = base = ""
        while not base:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, (await proc.stderr.read()).decode()
            if "admin token for this run is " in line:
                token = line.split()[-1]
            if "http://" in line:
                base = line[line.index("http://"):].split()[0]
        conversation = None
        async with aiohttp.ClientSession() as session:
            for _, text in blocks(page, "demo"):
                for command, shown in commands(text):
                    method, url, headers, data = _curl(command, base, token, conversation)
                    async with session.request(method, url, headers=headers, data=data) as response:
                        body = await response.text()
                        assert response.status in (200, 201), f"{command}\n{response.status} {body}"
                    answer = json.loads(body)
                    conversation = answer.get("conversation_id", conversation) if isinstance(answer, dict) \
                        else conversation
                    pairs = list(_pairs(answer))
                    for field in FIELD.finditer(" ".join(shown)):
                        key, value = field["key"], field["value"]
                        assert any(k == key and _matches(value, v) for k, v in pairs), \
                            f"{page_id(page)}: {command}\nthe docs show {key}: {value}, the answer was {body}"
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


# -------------------------------------------------------------------------------------- the HTTP API page


async def test_the_http_api_page_lists_every_route(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(make_settings(tmp_path)))
    async with client.get("/api/openapi.json") as response:
        described = await response.json()
    page = (DOCS / "http-api.md").read_text(encoding="utf-8")
    missing = [f"{method.upper()} {path}" for path, operations in described["paths"].items()
               for method in operations if f"`{method.upper()} {path}`" not in page]
    assert not missing, f"routes missing from docs/http-api.md: {missing}"
