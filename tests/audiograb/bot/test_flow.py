"""The whole flow over real aiogram, the real pipeline and loopback media: link, keyboard,
coalesced progress edits, the uploaded file, a second user at the same time, the file id cache,
flood control, strangers and oversized files."""

import functools
import itertools
import logging
from pathlib import Path

import pytest

from tests.audiograb.bot.conftest import USER_A, USER_B, button, running_bot, tone
from tests.fakebotapi import TOKEN, ApiCall

pytestmark = pytest.mark.anyio


@pytest.mark.slow
async def test_link_to_file_two_users_coalesced_edits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("aiogram", "aiohttp", "audiograb"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with running_bot(tmp_path) as h:
        tone(h.media.root, "a.m4a", seconds=3.0)
        tone(h.media.root, "b.m4a", seconds=3.0)
        h.media.slow("/a.m4a", 12_000)
        h.media.slow("/b.m4a", 12_000)
        url_a, url_b = h.media.url("/a.m4a"), h.media.url("/b.m4a")

        keyboard_a = await h.link_keyboard(USER_A, url_a)
        assert keyboard_a["text"].startswith("Direct media, HLS and DASH links · a\n")
        labels = [k["text"] for row in keyboard_a["reply_markup"]["inline_keyboard"] for k in row]
        assert any("mp3" in label for label in labels)
        assert any("Transcript" in label for label in labels)
        keyboard_b = await h.link_keyboard(USER_B, url_b)

        h.api.press(USER_A, keyboard_a, button(keyboard_a, "mp3"))
        h.api.press(USER_B, keyboard_b, button(keyboard_b, "m4a"))
        # Flood control on A's second edit: the job goes on, the edit waits.
        h.api.fail_next("editMessageText", retry_after=3, chat_id=USER_A, times=1)

        [audio_a] = await h.api.wait_for(
            "sendAudio", where=lambda c: c.chat_id == USER_A, within=25
        )
        [audio_b] = await h.api.wait_for(
            "sendAudio", where=lambda c: c.chat_id == USER_B, within=25
        )
        for user in (USER_A, USER_B):
            await h.api.wait_for("editMessageText", where=functools.partial(_final, user=user))

        # The same media again: sent by file id from the cache, no job, no upload.
        again = await h.link_keyboard(USER_A, url_a)
        h.api.press(USER_A, again, button(again, "mp3"))
        [_, resent] = await h.api.wait_for(
            "sendAudio", count=2, where=lambda c: c.chat_id == USER_A
        )
        assert len(await h.ag.list()) == 2

    # The file, with its tags, uploaded the way Telegram wants it.
    assert audio_a.content_type == "multipart/form-data"
    assert audio_a.raw["audio"].startswith("attach://")
    assert audio_a.params["title"] == "a"
    assert 2 <= int(audio_a.params["duration"]) <= 4
    assert audio_a.uploads["audio"].filename.endswith(".mp3")
    assert audio_b.uploads["audio"].filename.endswith(".m4a")
    uploaded = [
        m["audio"]["file_id"]
        for (c, _), m in h.api.messages.items()
        if c == USER_A and "audio" in m
    ]
    assert resent.uploads == {}
    assert resent.raw["audio"] == uploaded[0]
    assert resent.raw["audio"] in h.api.files

    # Both jobs ran at once: B's progress was edited while A's was still downloading.
    edits_a = h.api.calls_to("editMessageText", USER_A)
    edits_b = h.api.calls_to("editMessageText", USER_B)
    assert edits_b[0].at < audio_a.at
    assert edits_a[0].at < audio_b.at

    # Coalesced: at most one edit per 2 s per chat, and the 429 pushed A's next edit back 3 s.
    for edits in (edits_a, edits_b):
        gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(edits)]
        assert len(gaps) >= 2
        assert min(gaps) >= 1.95, gaps
    refused = [c for c in edits_a if not c.ok]
    assert [c.error_code for c in refused] == [429]
    after = edits_a[edits_a.index(refused[0]) + 1]
    assert after.at - refused[0].at >= 2.95
    assert any("Downloading" in c.params["text"] for c in edits_a + edits_b)
    assert TOKEN not in caplog.text


def _final(call: ApiCall, user: int) -> bool:
    return call.chat_id == user and call.ok and "✅ Done" in call.params["text"]
