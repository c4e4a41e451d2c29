"""Subtitle cues from transcript segments: short enough to read while the speech goes on.

Whisper's segments run up to 30 seconds and hundreds of characters, which as one SubRip or
WebVTT cue is a wall of text on screen for half a minute. A segment that is too long is cut
into several cues of at most `MAX_LINES` lines of `MAX_LINE_CHARS` characters and
`MAX_CUE_SECONDS` seconds (the usual broadcast limits), timed by its words, preferring to cut
after punctuation. A segment without word timings is cut the same way with times spread by
character position. The text is never changed: the cues of a segment read its text exactly.

Chinese and Japanese are written without spaces and each character takes the width of two
Latin letters, so text mostly in their scripts gets lines of at most `MAX_CJK_LINE_CHARS`
characters (the usual limit for their subtitles), cut between any two characters, after
punctuation where it can be.
"""

import re
from collections.abc import Sequence
from typing import NamedTuple, Protocol

__all__ = [
    "MAX_CJK_LINE_CHARS",
    "MAX_CUE_SECONDS",
    "MAX_LINES",
    "MAX_LINE_CHARS",
    "Cue",
    "TimedText",
    "cues_of",
]

MAX_LINE_CHARS = 42
MAX_CJK_LINE_CHARS = 16
MAX_LINES = 2
MAX_CUE_SECONDS = 7.0
_CLAUSE_END = re.compile(r"[,.;:!?…，。；：！？、]$")
_NOT_SPACE = re.compile(r"\S+")
# Han ideographs (with extension A and the compatibility block), kana, CJK punctuation and
# full-width forms: the scripts written without spaces between words.
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


class TimedText(Protocol):
    """A word with its times (a `Word`)."""

    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...


class Cue(NamedTuple):
    """One subtitle: when it shows, and its lines."""

    start: float
    end: float
    lines: tuple[str, ...]


class _Token(NamedTuple):
    """A stretch of the segment's text, `text[first:stop]`, spoken from `start` to `end`."""

    first: int
    stop: int
    start: float
    end: float


def cues_of(start: float, end: float, text: str, words: Sequence[TimedText]) -> list[Cue]:
    """The cues for one segment (`text` on one line); none when the text is empty."""
    text = text.strip()
    if not text:
        return []
    end = max(start, end)
    width = _line_width(text)
    whole = _wrap(text, width)
    if end - start <= MAX_CUE_SECONDS and _lines_fit(whole, width):
        return [Cue(start, end, whole)]
    tokens = _aligned(text, words) or _spread(text, start, end, width)
    cues: list[Cue] = []
    for group in _groups(text, tokens, width):
        cue_start = start if not cues else max(group[0].start, cues[-1].end)
        cue_end = max(cue_start, group[-1].end)
        cues.append(Cue(cue_start, cue_end, _wrap(_text(text, group), width)))
    cues[-1] = cues[-1]._replace(end=max(cues[-1].start, end))
    return cues


def _line_width(text: str) -> int:
    """Characters a line may hold: fewer when most of the text is Chinese or Japanese."""
    letters = sum(1 for char in text if char.isalnum())
    cjk = len(_CJK.findall(text))
    return MAX_CJK_LINE_CHARS if cjk * 2 > letters else MAX_LINE_CHARS


def _aligned(text: str, words: Sequence[TimedText]) -> list[_Token]:
    """Tokens from the word timings, each found in `text` in order; [] if any is missing.

    Each token reaches up to the next one, so the punctuation and spaces between words belong
    to the word before them, and no character of the text is lost.
    """
    found: list[tuple[int, float, float]] = []
    position = 0
    for word in words:
        spoken = word.text.strip()
        if not spoken:
            continue
        at = text.find(spoken, position)
        if at < 0:
            return []
        found.append((at, word.start, max(word.start, word.end)))
        position = at + len(spoken)
    if not found:
        return []
    starts = [0] + [at for at, _, _ in found[1:]] + [len(text)]
    return [
        _Token(starts[i], starts[i + 1], begin, finish)
        for i, (_, begin, finish) in enumerate(found)
    ]


def _spread(text: str, start: float, end: float, width: int) -> list[_Token]:
    """Tokens at the spaces (each character of a run too long for a line, as in Chinese or
    Japanese written without spaces), timed as if the text were spoken at an even pace."""
    per_char = (end - start) / len(text)
    spans = [
        span
        for m in _NOT_SPACE.finditer(text)
        for span in (
            [(m.start(), m.end())]
            if m.end() - m.start() <= width
            else [(i, i + 1) for i in range(m.start(), m.end())]
        )
    ]
    stops = [first for first, _ in spans[1:]] + [len(text)]
    return [
        _Token(first, stop, start + first * per_char, start + last * per_char)
        for (first, last), stop in zip(spans, stops, strict=True)
    ]


def _groups(text: str, tokens: list[_Token], width: int) -> list[list[_Token]]:
    """Tokens gathered greedily into cues that fit, cut after a clause where one is near."""
    groups: list[list[_Token]] = []
    current: list[_Token] = []
    for token in tokens:
        if current and not _fits(text, [*current, token], width):
            cut = _cut(text, current)
            groups.append(current[:cut])
            current = current[cut:]
            if current and not _fits(text, [*current, token], width):
                groups.append(current)
                current = []
        current.append(token)
    groups.append(current)
    _balance_tail(text, groups, width)
    return groups


def _balance_tail(text: str, groups: list[list[_Token]], width: int) -> None:
    """Give a short last cue (a word or two left over) words from the cue before it, until it
    is no shorter than that one, so no fragment flashes up on its own."""
    if len(groups) < 2 or len(_text(text, groups[-1])) >= width // 2:
        return
    while len(groups[-2]) > 1:
        before, last = groups[-2], groups[-1]
        moved = [before[-1], *last]
        if not _fits(text, moved, width) or len(_text(text, moved)) > len(_text(text, before[:-1])):
            return
        groups[-2:] = [before[:-1], moved]


def _cut(text: str, group: list[_Token]) -> int:
    """Where to end a full cue: after the last clause in its second half, else at its end."""
    for cut in range(len(group) - 1, max(len(group) // 2, 1) - 1, -1):
        if _CLAUSE_END.search(_text(text, group[:cut])):
            return cut
    return len(group)


def _fits(text: str, group: list[_Token], width: int) -> bool:
    lines = _wrap(_text(text, group), width)
    short = group[-1].end - group[0].start <= MAX_CUE_SECONDS
    return short and len(lines) <= MAX_LINES and _lines_fit(lines, width)


def _lines_fit(lines: tuple[str, ...], width: int) -> bool:
    return all(len(line) <= width for line in lines)


def _text(text: str, group: list[_Token]) -> str:
    return text[group[0].first : group[-1].stop].strip()


def _wrap(text: str, width: int) -> tuple[str, ...]:
    """One line, or two split where they balance best: at a space, or (in Chinese and
    Japanese) between characters, just after punctuation when a mark is near the middle."""
    if len(text) <= width:
        return (text,)
    if width == MAX_CJK_LINE_CHARS:
        return _wrap_cjk(text, width)
    spaces = [i for i, char in enumerate(text) if char == " "]
    if not spaces:
        return (text,)
    at = min(spaces, key=lambda i: max(i, len(text) - i - 1))
    return (text[:at].rstrip(), text[at + 1 :].lstrip())


def _wrap_cjk(text: str, width: int) -> tuple[str, ...]:
    """Two lines cut between characters: after the clause mark nearest the middle that keeps
    both lines within `width`, else in the middle."""
    middle = len(text) // 2
    marks = [
        i + 1
        for i in range(len(text) - 1)
        if _CLAUSE_END.search(text[: i + 1]) and max(i + 1, len(text) - i - 1) <= width
    ]
    at = min(marks, key=lambda i: abs(i - middle), default=middle)
    return (text[:at].rstrip(), text[at:].lstrip())
