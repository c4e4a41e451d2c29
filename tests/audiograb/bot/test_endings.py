"""How a progress message ends when things go wrong: delivery that fails with an error that
is not Telegram's, and a cancel whose job takes its time to stop."""

from pathlib import Path

import pytest

from audiograb.domain import JobState
from tests.audiograb.bot.conftest import USER_A, button, running_bot, tone

pytestmark = pytest.mark.anyio

_PROXY_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


async def test_a_delivery_that_breaks_says_so_instead_of_sending_for_ever(tmp_path: Path) -> None:
    async with running_bot(tmp_path, edit_interval=0.2) as h:
        tone(h.media.root)
        keyboard = await h.link_keyboard(USER_A, h.media.url("/tone.m4a"))
        # A proxy in front of the Bot API answers with its own page: aiogram cannot decode it.
        h.api.fail_next("sendAudio", error_code=502, page=_PROXY_PAGE)
        h.api.press(USER_A, keyboard, button(keyboard, "mp3"))
        [final] = await h.api.wait_for(
            "editMessageText", where=lambda c: "❌" in c.params["text"], within=20
        )
        [upload] = h.api.calls_to("sendAudio")
        last = h.api.messages[(USER_A, keyboard["message_id"])]["text"]
    assert upload.error_code == 502
    assert "sending…" not in last
    assert "could not send" in final.params["text"]


async def test_cancel_is_answered_at_once_while_the_job_takes_its_time(tmp_path: Path) -> None:
    async with running_bot(tmp_path, edit_interval=0.2) as h:
        tone(h.media.root)
        keyboard = await h.link_keyboard(USER_A, h.media.url("/tone.m4a"))
        h.media.latency = 8.0  # the site is slow to answer: the download thread waits on it
        h.api.press(USER_A, keyboard, button(keyboard, "m4a"))
        await h.api.wait_for(
            "editMessageText", where=lambda c: "Downloading" in c.params["text"], within=15
        )
        h.api.send_text(USER_A, "/cancel")
        [answer] = await h.api.wait_for(
            "sendMessage", where=lambda c: c.params["text"].startswith("Cancel")
        )
        [cancelling] = await h.api.wait_for(
            "editMessageText", where=lambda c: "Cancelling" in c.params["text"]
        )
        [job] = await h.ag.list()
        h.media.latency = 0.0
        assert not job.state.terminal  # acknowledged while the thread still waits on the site
        [cancelled] = await h.api.wait_for(
            "editMessageText", where=lambda c: c.params["text"].endswith("🚫 Cancelled"), within=30
        )
        [job] = await h.ag.list()
    assert answer.params["text"] == "Cancelling 1 job…"
    assert "reply_markup" not in cancelling.params  # no second press on a job being stopped
    assert cancelling.at < cancelled.at
    assert job.state is JobState.CANCELLED
