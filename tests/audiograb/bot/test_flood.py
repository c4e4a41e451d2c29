"""Flood control over real aiogram and the real pipeline: every call honours Telegram's
`retry_after`, and the bot paces what it sends into each chat."""

import itertools
from pathlib import Path

import pytest

from tests.audiograb.bot.conftest import USER_A, USER_B, button, running_bot, tone

pytestmark = pytest.mark.anyio


async def test_retry_after_delays_a_reply_or_a_file_but_loses_neither(tmp_path: Path) -> None:
    async with running_bot(tmp_path, edit_interval=0.2) as h:
        h.api.fail_next("sendMessage", retry_after=1, chat_id=USER_A)
        h.api.send_text(USER_A, "/help")
        refused, answered = await h.api.wait_for(
            "sendMessage", count=2, where=lambda c: c.chat_id == USER_A
        )
        tone(h.media.root)
        keyboard = await h.link_keyboard(USER_A, h.media.url("/tone.m4a"))
        h.api.fail_next("sendAudio", retry_after=1)
        h.api.press(USER_A, keyboard, button(keyboard, "mp3"))
        first_try, second_try = await h.api.wait_for("sendAudio", count=2, within=20)
        await h.api.wait_for(
            "editMessageText", where=lambda c: c.params["text"].endswith("\n✅ Done")
        )
    assert (refused.error_code, answered.ok) == (429, True)
    assert "/platforms" in answered.params["text"]
    assert answered.at - refused.at >= 0.99
    assert (first_try.error_code, second_try.ok) == (429, True)
    assert second_try.at - first_try.at >= 0.99
    assert second_try.uploads["audio"].content == first_try.uploads["audio"].content
    texts = [c.params["text"] for c in h.api.calls_to("editMessageText")]
    assert not any("Too Many Requests" in text for text in texts)


async def test_answers_to_a_burst_are_paced_per_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        for _ in range(4):
            h.api.send_text(USER_A, "/help")
        h.api.send_text(USER_B, "/help")
        answers = await h.api.wait_for(
            "sendMessage", count=4, where=lambda c: c.chat_id == USER_A, within=20
        )
        [other] = await h.api.wait_for("sendMessage", where=lambda c: c.chat_id == USER_B)
    # Telegram's advice: about one message a second in a private chat.
    # The turns are a second apart; what arrives may be a little closer when the load varies.
    assert all(b.at - a.at >= 0.5 for a, b in itertools.pairwise(answers))
    assert answers[-1].at - answers[0].at >= 2.5
    assert other.at < answers[-1].at  # another chat does not queue behind this one
