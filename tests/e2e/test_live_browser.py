"""The `/live` page in headless Chromium with a fake microphone playing LibriVox speech.

Chromium plays `clip.wav` (48 kHz, so the page's AudioWorklet really resamples) as its
microphone; the test drives the page over the Chrome DevTools Protocol: open `/live`, press
Start, wait for the words, press Stop, read the transcript off the page.
"""

import subprocess
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import msgspec
import pytest

from audiograb.config import Settings
from audiograb.engines.ffmpeg import find_ffmpeg
from audiograb.pipeline import installed_models, language_policy
from tests import speech
from tests.e2e.api_support import API_KEY
from tests.e2e.browser import DevTools, chromium, serving
from tests.wer import normalise, word_error_rate

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.usefixtures("browser")]

MAX_WER = 0.25
_FINALS = "document.getElementById('finals').textContent"
_STATE = "document.body.dataset.state"


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


def microphone_page(clip: Path, profile: Path) -> AbstractAsyncContextManager[DevTools]:
    """A Chromium page whose microphone plays `clip` once."""
    return chromium(
        profile,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={clip}%noloop",
    )


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
    async with serving(keyed) as base, microphone_page(clip, tmp_path / "profile") as page:
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
    async with serving(keyed) as base, microphone_page(clip, tmp_path / "profile") as page:
        await open_live_page(page, base)
        options = "[...document.getElementById('language').options].map((o) => o.value)"
        offered = await page.wait_for(f"{options}.length > 2 && {options}", seconds=60)
    listed = installed_models(language_policy(settings))
    assert offered[:2] == ["", "en"]  # detect, then English
    assert sorted(offered[2:]) == sorted(code for code in listed.languages if code != "en")
    assert {"zh", "es", "de", "ja"} <= set(offered)
