"""Conversations over the real pipeline: commands, strangers, limits, cancelling, sizes."""

from pathlib import Path
from typing import Any

import msgspec
import pytest

from audiograb.bot import Limits
from audiograb.domain import JobState, LinkInfo, MediaInfo
from audiograb.pipeline import Audiograb
from tests.audiograb.bot.conftest import STRANGER, USER_A, Harness, button, running_bot, tone

pytestmark = pytest.mark.anyio


async def _answers(h: Harness, user: int, count: int = 1) -> list[str]:
    calls = await h.api.wait_for("sendMessage", count=count, where=lambda c: c.chat_id == user)
    return [c.params["text"] for c in calls]


async def test_commands(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        h.api.send_text(USER_A, "/start")
        h.api.send_text(USER_A, "/platforms")
        h.api.send_text(USER_A, "/status")
        h.api.send_text(USER_A, "hello there")
        h.api.send_text(USER_A, "https://www.youtube.com/playlist?list=PL123")
        start, platforms, status, chat, playlist = await _answers(h, USER_A, 5)
    assert "/transcribe" in start
    assert "/cancel" in start
    assert "YouTube" in platforms
    assert "X Spaces" in platforms
    assert status == "You have no jobs yet."
    assert chat.startswith("Send me a link")
    assert playlist.startswith("❌")
    commands = h.api.calls_to("setMyCommands")[0].params["commands"]
    assert {c["command"] for c in commands} >= {"help", "status", "cancel", "transcribe"}


async def test_strangers_are_refused_politely(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        tone(h.media.root)
        h.api.send_text(STRANGER, h.media.url("/tone.m4a"))
        [refusal] = await _answers(h, STRANGER)
        # A button the stranger got hold of (a forwarded keyboard) is refused too.
        own = await h.link_keyboard(USER_A, h.media.url("/tone.m4a"))
        forwarded = h.api.user_message(STRANGER, text="fwd", reply_markup=own["reply_markup"])
        h.api.press(STRANGER, forwarded, button(own, "mp3"))
        [alert] = await h.api.wait_for(
            "answerCallbackQuery", where=lambda c: "private" in c.params.get("text", "")
        )
        assert await h.ag.list() == []
    assert "private" in refusal
    assert str(STRANGER) in refusal
    assert alert.params["show_alert"] == "true"
    assert "reply_markup" not in h.api.calls_to("sendMessage", STRANGER)[0].params


async def test_group_chat_on_the_list_serves_its_members(tmp_path: Path) -> None:
    group = -500
    async with running_bot(tmp_path, bot_allowed_ids=(group,)) as h:
        h.api.send_text(STRANGER, "/help", chat_id=group)
        [answer] = await _answers(h, group)
    assert "/platforms" in answer


async def test_one_job_per_user_status_and_cancel(tmp_path: Path) -> None:
    async with running_bot(tmp_path, bot_jobs_per_user=1, edit_interval=0.2) as h:
        tone(h.media.root, "slow.m4a")
        tone(h.media.root, "other.m4a")
        h.media.slow("/slow.m4a", 2_000)
        first = await h.link_keyboard(USER_A, h.media.url("/slow.m4a"))
        h.api.press(USER_A, first, button(first, "m4a"))
        await h.api.wait_for(
            "editMessageText", where=lambda c: "Downloading" in c.params["text"], within=15
        )
        second = await h.link_keyboard(USER_A, h.media.url("/other.m4a"))
        h.api.press(USER_A, second, button(second, "mp3"))
        [refused] = await h.api.wait_for(
            "answerCallbackQuery", where=lambda c: "running" in c.params.get("text", "")
        )
        h.api.send_text(USER_A, "/status")
        await h.api.wait_for("sendMessage", where=lambda c: "Downloading" in c.params["text"])
        h.api.send_text(USER_A, "/cancel")
        await h.api.wait_for("sendMessage", where=lambda c: c.params["text"] == "Cancelling 1 job…")
        await h.api.wait_for("editMessageText", where=lambda c: "Cancelled" in c.params["text"])
        [job] = await h.ag.list()
        # The slot is free again: the second link now starts.
        h.api.press(USER_A, second, button(second, "mp3"))
        await h.api.wait_for("sendAudio", within=15)
    assert "1 jobs running" in refused.params["text"]
    assert job.state is JobState.CANCELLED


async def test_oversized_file_gets_a_clear_message_and_a_link(tmp_path: Path) -> None:
    limits = Limits(upload_bytes=10_000, download_bytes=10_000, jobs_per_user=2)
    async with running_bot(
        tmp_path, limits=limits, edit_interval=0.2, public_url="https://grab.example.org/"
    ) as h:
        tone(h.media.root)
        keyboard = await h.link_keyboard(USER_A, h.media.url("/tone.m4a"))
        h.api.press(USER_A, keyboard, button(keyboard, "m4a"))
        [final] = await h.api.wait_for(
            "editMessageText", where=lambda c: "over the" in c.params["text"], within=15
        )
        [job] = await h.ag.list()
    assert "10.0 KB" in final.params["text"]
    assert f"https://grab.example.org/api/jobs/{job.id}/file" in final.params["text"]
    assert h.api.calls_to("sendAudio") == []


async def test_upload_refused_by_telegram_as_too_large(tmp_path: Path) -> None:
    async with running_bot(tmp_path, edit_interval=0.2) as h:
        h.api.upload_limit = 1_000
        tone(h.media.root)
        keyboard = await h.link_keyboard(USER_A, h.media.url("/tone.m4a"))
        h.api.press(USER_A, keyboard, button(keyboard, "mp3"))
        [final] = await h.api.wait_for(
            "editMessageText", where=lambda c: "over the" in c.params["text"], within=15
        )
    [upload] = h.api.calls_to("sendAudio")
    assert upload.error_code == 413
    assert "50.0 MB" in final.params["text"]


class _Measured:
    """The facade, with a look-up that answers from the link's shape (no network) and finds
    what a platform with metadata would say: a title and an hour's length."""

    def __init__(self, ag: Audiograb) -> None:
        self._ag = ag

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ag, name)

    async def look_up(self, url: str, *, playlist: bool = False, fetch: bool = False) -> LinkInfo:
        info = await self._ag.look_up(url, playlist=playlist)
        media = MediaInfo(title="A Very Long Talk", uploader="Host", duration=3600.0)
        return msgspec.structs.replace(info, media=media)


async def test_looked_up_title_and_size_checked_before_downloading(tmp_path: Path) -> None:
    async with running_bot(tmp_path, wrap=_Measured) as h:
        tone(h.media.root)
        keyboard = await h.link_keyboard(USER_A, h.media.url("/tone.m4a"))
        h.api.press(USER_A, keyboard, button(keyboard, "mp3"))
        [refused] = await h.api.wait_for(
            "answerCallbackQuery", where=lambda c: "over the" in c.params.get("text", "")
        )
        assert await h.ag.list() == []  # nothing was downloaded
    title, length, _ = keyboard["text"].splitlines()
    assert title.endswith(" · A Very Long Talk")
    assert length == "Length 60:00"
    assert "86.4 MB" in refused.params["text"]


async def test_a_link_typed_without_https_is_taken(tmp_path: Path) -> None:
    typed = "youtube.com/watch?v=dQw4w9WgXcQ"
    async with running_bot(tmp_path, wrap=_Measured) as h:  # the look-up stays offline
        message = h.api.user_message(
            USER_A,
            text=f"listen to {typed} please",
            entities=[{"type": "url", "offset": 10, "length": len(typed)}],  # as Telegram marks it
        )
        h.api.push("message", message)
        [answer] = await _answers(h, USER_A)
        loopback = h.media.url("/talk.m4a").removeprefix("http://")  # never the internet
        h.api.send_text(USER_A, f"/transcribe {loopback}")
        await h.api.wait_for("sendMessage", where=lambda c: c.params["text"] == "A Very Long Talk")
        [job] = await h.ag.list()
    assert answer.startswith("YouTube · A Very Long Talk\n")
    assert job.request.url == f"https://{loopback}"
