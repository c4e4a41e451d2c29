"""Buttons pressed the way people press them: twice in a hurry, or by someone else in a group."""

from pathlib import Path

import pytest

from tests.audiograb.bot.conftest import USER_A, USER_B, button, running_bot, tone
from tests.fakebotapi import ApiCall

pytestmark = pytest.mark.anyio

GROUP = -500


def _done(call: ApiCall) -> bool:
    return call.ok and "✅ Done" in call.params["text"]


async def test_a_keyboard_starts_one_job_however_often_it_is_pressed(tmp_path: Path) -> None:
    async with running_bot(tmp_path, edit_interval=0.2) as h:
        tone(h.media.root)
        h.media.slow("/tone.m4a", 20_000)
        keyboard = await h.link_keyboard(USER_A, h.media.url("/tone.m4a"))
        for label in ("mp3", "mp3", "m4a"):  # a double tap, then a change of mind
            h.api.press(USER_A, keyboard, button(keyboard, label))
        answers = await h.api.wait_for("answerCallbackQuery", count=3)
        await h.api.wait_for("editMessageText", where=_done, within=20)
        jobs = await h.ag.list()
    assert len(jobs) == 1
    assert len(h.api.calls_to("sendAudio")) == 1
    busy = [a for a in answers if a.params.get("text", "").startswith("Already on it")]
    assert len(busy) == 2
    assert all(a.params["show_alert"] == "false" for a in answers)


async def test_only_the_sender_of_a_link_in_a_group_can_choose(tmp_path: Path) -> None:
    async with running_bot(tmp_path, bot_allowed_ids=(GROUP,), edit_interval=0.2) as h:
        tone(h.media.root)
        h.api.send_text(USER_A, h.media.url("/tone.m4a"), chat_id=GROUP)
        [shown] = await h.api.wait_for(
            "sendMessage", where=lambda c: c.chat_id == GROUP and "reply_markup" in c.params
        )
        keyboard = h.api.messages[(GROUP, shown.result["message_id"])]
        h.api.press(USER_B, keyboard, button(keyboard, "m4a"))
        [refused] = await h.api.wait_for("answerCallbackQuery")
        assert await h.ag.list() == []
        h.api.press(USER_A, keyboard, button(keyboard, "m4a"))
        await h.api.wait_for("sendAudio", where=lambda c: c.chat_id == GROUP, within=20)
    assert refused.params["text"] == "Only the person who sent that link can choose from it."
    assert refused.params["show_alert"] == "true"
