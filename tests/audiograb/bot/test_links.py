"""A link is looked up before the bot offers anything: what is no media is answered honestly
at once, and a video is offered only where there may be one."""

from pathlib import Path
from typing import Any

import pytest

from tests.audiograb.bot.conftest import USER_A, Harness, running_bot, tone
from tests.media import make_video

pytestmark = pytest.mark.anyio


def _labels(message: dict[str, Any]) -> list[str]:
    return [key["text"] for row in message["reply_markup"]["inline_keyboard"] for key in row]


async def _answer(h: Harness, url: str) -> dict[str, Any]:
    before = len(h.api.calls_to("sendMessage", USER_A))
    h.api.send_text(USER_A, url)
    calls = await h.api.wait_for(
        "sendMessage", count=before + 1, where=lambda c: c.chat_id == USER_A, within=20
    )
    return h.api.messages[(USER_A, calls[-1].result["message_id"])]


async def test_no_keyboard_for_what_is_no_media_and_no_video_of_sound(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        (h.media.root / "page.html").write_text("<html><body><p>Just a page</p></body></html>")
        tone(h.media.root, "talk.mp3")
        make_video(h.media.root / "clip.mp4", seconds=1.0)
        page = await _answer(h, h.media.url("/page.html"))
        gone = await _answer(h, h.media.url("/gone.mp3"))
        sound = await _answer(h, h.media.url("/talk.mp3"))
        video = await _answer(h, h.media.url("/clip.mp4"))
        assert await h.ag.list() == []  # looking up made no job
    assert "reply_markup" not in page
    assert page["text"] == "❌ I do not know how to grab that link."
    assert "reply_markup" not in gone
    assert gone["text"].startswith("❌ The media was not found")
    assert sound["text"].startswith("Direct media, HLS and DASH links · talk\n")
    assert not any("Video" in label for label in _labels(sound))
    assert any("mp3" in label for label in _labels(sound))
    assert any("Video" in label for label in _labels(video))
