"""The `/live` page in headless Chromium with a fake microphone playing LibriVox speech.

Chromium plays `clip.wav` (48 kHz, so the page's AudioWorklet really resamples) as its
microphone; the test drives the page over the Chrome DevTools Protocol: open `/live`, press
Start, wait for the words, press Stop, read the transcript off the page.
"""

import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from anyio.abc import ByteReceiveStream
from websockets.asyncio.client import ClientConnection, connect

from audiograb.api import create_app
from audiograb.config import Settings
from audiograb.engines.ffmpeg import find_ffmpeg
from audiograb.pipeline import installed_models, language_policy, open_audiograb
from audiograb.server.http import api_server, bind_socket
from audiograb.web import web_routes
from tests import speech
from tests.e2e.api_support import API_KEY
from tests.wer import normalise, word_error_rate

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)"
    ),
]

MAX_WER = 0.25


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """The API with the web pages on a real uvicorn server; yields its base URL."""
    async with open_audiograb(settings) as ag:
        app = create_app(ag, settings=settings, extra_routes=web_routes)
        sock = bind_socket("127.0.0.1", 0)
        server = api_server(app, settings, log_level="warning")
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(server.serve, [sock])
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                server.should_exit = True


class DevTools:
    """A minimal Chrome DevTools Protocol client over one flattened page session."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.session: str | None = None

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        await self._socket.send(json.dumps(message))
        async for raw in self._socket:
            reply = json.loads(raw)
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result
        raise RuntimeError("DevTools closed the connection")

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if it is a promise)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, condition: str, *, seconds: float) -> Any:
        """The value of `condition` (a JS expression) once it is truthy in the page."""
        with anyio.fail_after(seconds + 5):
            return await self.evaluate(_WAIT_JS % {"condition": condition, "ms": seconds * 1000})


_WAIT_JS = """new Promise((resolve, reject) => {
  const deadline = Date.now() + %(ms)d;
  const check = () => {
    const value = (%(condition)s);
    if (value) resolve(value);
    else if (Date.now() > deadline) reject(new Error("timed out waiting"));
    else setTimeout(check, 100);
  };
  check();
})"""
_FINALS = "document.getElementById('finals').textContent"
_STATE = "document.body.dataset.state"


@asynccontextmanager
async def chromium(clip: Path, profile: Path) -> AsyncIterator[DevTools]:
    """Headless Chromium with `clip` as its microphone, and a DevTools session on a new tab."""
    assert CHROMIUM is not None
    args = [
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--no-first-run",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={clip}%noloop",
        "--autoplay-policy=no-user-gesture-required",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    async with await anyio.open_process(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as process:
        try:
            assert process.stderr is not None
            url = await _devtools_url(process.stderr)
            async with connect(url, max_size=None) as socket:
                tools = DevTools(socket)
                target = await tools.call("Target.createTarget", url="about:blank")
                attached = await tools.call(
                    "Target.attachToTarget", targetId=target["targetId"], flatten=True
                )
                tools.session = attached["sessionId"]
                yield tools
        finally:
            process.terminate()


async def _devtools_url(stderr: ByteReceiveStream) -> str:
    """Read Chromium's stderr until it says where DevTools listens."""
    seen = b""
    with anyio.fail_after(30):
        async for chunk in stderr:
            seen += chunk
            for line in seen.decode(errors="replace").splitlines():
                if line.startswith("DevTools listening on "):
                    return str(line.removeprefix("DevTools listening on ").strip())
    raise RuntimeError(f"Chromium did not start: {seen.decode(errors='replace')[-2000:]}")


def fake_microphone(dest: Path, source: Path) -> Path:
    """`source` at 48 kHz stereo with a second of silence before and two after."""
    subprocess.run(
        [
            find_ffmpeg(None),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=48000:cl=stereo:d=1",
            "-i",
            str(source),
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=48000:cl=stereo:d=2",
            "-filter_complex",
            "[1:a]aresample=48000,aformat=channel_layouts=stereo[s];[0:a][s][2:a]concat=n=3:v=0:a=1",
            "-c:a",
            "pcm_s16le",
            str(dest),
        ],
        check=True,
    )
    return dest


async def open_live_page(page: DevTools, base: str) -> None:
    """Open `/live` with the API key and wait until it has loaded."""
    await page.call("Page.enable")
    await page.call("Page.navigate", url=f"{base}/live?token={API_KEY}")
    await page.wait_for(
        "document.readyState === 'complete' && !!document.getElementById('start')", seconds=20
    )


async def test_the_live_page_transcribes_the_microphone(settings: Settings, tmp_path: Path) -> None:
    clips = speech.librivox_clips()
    source = speech.join_clips(tmp_path / "once.wav", clips)
    clip = fake_microphone(tmp_path / "clip.wav", source)
    reference = speech.reference_text(clips)
    keyed = msgspec.structs.replace(settings, api_keys=(API_KEY,))
    async with serving(keyed) as base, chromium(clip, tmp_path / "profile") as page:
        await open_live_page(page, base)
        await page.evaluate("document.getElementById('start').click()")
        await page.wait_for(f"{_STATE} === 'live'", seconds=30)
        words = len(normalise(reference).split())
        # Finals arrive utterance by utterance: wait for most of the clip's words.
        await page.wait_for(
            f"{_FINALS}.split(/\\s+/).length >= {int(words * 0.9)} || {_STATE} === 'error'",
            seconds=60,
        )
        await page.evaluate("document.getElementById('stop').click()")
        state = await page.wait_for(f"['done', 'error'].includes({_STATE}) && {_STATE}", seconds=30)
        status = await page.evaluate("document.getElementById('status').textContent")
        assert state == "done", status
        shown = await page.evaluate(_FINALS)
    rate = word_error_rate(reference, shown)
    print(f"browser WER {rate:.2%}")
    assert rate < MAX_WER, f"WER {rate:.2%}: {shown!r}"


async def test_the_language_menu_offers_what_the_installed_models_speak(
    settings: Settings, tmp_path: Path
) -> None:
    clip = fake_microphone(tmp_path / "clip.wav", speech.librivox_clips()[0])
    keyed = msgspec.structs.replace(settings, api_keys=(API_KEY,))
    async with serving(keyed) as base, chromium(clip, tmp_path / "profile") as page:
        await open_live_page(page, base)
        options = "[...document.getElementById('language').options].map((o) => o.value)"
        offered = await page.wait_for(f"{options}.length > 2 && {options}", seconds=60)
    listed = installed_models(language_policy(settings))
    assert offered[:2] == ["", "en"]  # detect, then English
    assert sorted(offered[2:]) == sorted(code for code in listed.languages if code != "en")
    assert {"zh", "es", "de", "ja"} <= set(offered)
