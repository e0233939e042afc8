"""Photo upload: the time to upload a 5 MB photo from the widget and show it, over loopback.

Starts a real `reception serve` on a throwaway SQLite database (with an
agent online, so the photo goes the whole way: a handover, an assignment),
opens a widget session, then for each run sends a fresh 5 MB JPEG (noise,
so it does not compress away) to ``POST /api/v1/webchat/images`` and fetches
what the widget shows: the thumbnail, then the full photo when the buyer
taps it. Reports, per run and as min / median / max over the runs:

- upload: from the first byte sent to the answer (the server reads the
  body, decodes and checks the photo, re-encodes it, writes the files and
  the message);
- thumb: fetching the thumbnail with the buyer's token (what the chat shows);
- shown: upload + thumb, the time until the photo is in the conversation;
- full: fetching the whole re-encoded photo (the viewer).

    python bench/upload.py [--runs 3] [--megabytes 5]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from PIL import Image

CONFIG = """
[hours]
open = ["00:00-24:00"]
[admin]
token = "admin-token-bench"
[[agents]]
id = "shop:alice"
token = "alice-token-bench"
groups = ["service"]
max_concurrent = 100
"""


def photo(megabytes: float, seed: int) -> bytes:
    """A JPEG of about `megabytes`: a noisy 12 MP picture (noise does not compress, as a real photo barely does)."""
    rng = random.Random(seed)
    width, height = 4000, 3000
    noise = Image.frombytes("L", (width // 3, height // 3), rng.randbytes((width // 3) * (height // 3)))
    base = Image.merge("RGB", [noise.resize((width, height), Image.Resampling.BILINEAR)] * 3)
    for quality in (95, 92, 88, 84, 80, 75, 70):
        out = io.BytesIO()
        base.save(out, "JPEG", quality=quality)
        if out.tell() <= megabytes * 1024 * 1024:
            return out.getvalue()
    return out.getvalue()


async def serve(folder: Path) -> tuple[asyncio.subprocess.Process, str]:
    (folder / "reception.toml").write_text(CONFIG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECEPTION_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reception.cli", "serve", "--config", "reception.toml", "--port", "0",
        "--db", str(folder / "bench.db"), cwd=folder, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        if not line:
            raise SystemExit("the server did not start")
        if "http://" in line:
            return proc, line[line.index("http://"):].split()[0]


async def one_run(session: aiohttp.ClientSession, url: str, token: str, data: bytes, n: int) -> dict[str, float]:
    auth = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    async with session.post(f"{url}/api/v1/webchat/images", data=data, params={"client_id": f"bench-{n}"},
                            headers={**auth, "Content-Type": "image/jpeg"}) as response:
        body = await response.json()
        if response.status != 200:
            raise SystemExit(f"upload refused: {response.status} {body}")
    uploaded = time.perf_counter()
    async with session.get(url + body["image"]["thumb_url"], headers=auth) as response:
        thumb = await response.read()
    thumbed = time.perf_counter()
    async with session.get(url + body["image"]["url"], headers=auth) as response:
        full = await response.read()
    done = time.perf_counter()
    return {"upload": uploaded - started, "thumb": thumbed - uploaded, "shown": thumbed - started,
            "full": done - thumbed, "sent_mb": len(data) / 1048576, "stored_mb": len(full) / 1048576,
            "thumb_kb": len(thumb) / 1024}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--megabytes", type=float, default=5.0)
    args = parser.parse_args()
    photos = [photo(args.megabytes, seed) for seed in range(args.runs)]
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = await serve(Path(tmp))
        try:
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{url}/api/v1/agents/shop:alice/status", json={"status": "online"},
                                        headers={"Authorization": "Bearer alice-token-bench"}) as response:
                    assert response.status == 200
                async with session.post(f"{url}/api/v1/webchat/session", json={}) as response:
                    token = (await response.json())["token"]
                results = []
                for n, data in enumerate(photos, start=1):
                    result = await one_run(session, url, token, data, n)
                    results.append(result)
                    print(f"run {n}: {result['sent_mb']:.2f} MB sent, upload {result['upload'] * 1000:.0f} ms, "
                          f"thumb {result['thumb'] * 1000:.0f} ms ({result['thumb_kb']:.0f} KB), shown "
                          f"{result['shown'] * 1000:.0f} ms; full photo {result['full'] * 1000:.0f} ms "
                          f"({result['stored_mb']:.2f} MB stored)")
        finally:
            proc.terminate()
            await proc.wait()
    print(f"over {len(results)} runs (min / median / max, ms):")
    for key in ("upload", "thumb", "shown", "full"):
        values = [r[key] * 1000 for r in results]
        print(f"  {key:7} {min(values):6.0f} / {statistics.median(values):6.0f} / {max(values):6.0f}")


if __name__ == "__main__":
    asyncio.run(main())
