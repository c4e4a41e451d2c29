"""Word error rate for transcription tests, and the LibriVox reference reader.

`normalise` makes a transcript and a reference comparable: lower case, apostrophes dropped
("don't" → "dont"), every other punctuation mark a word break ("ill-disposed" → "ill disposed"),
whitespace collapsed; digits stay as they are. `word_error_rate` is the word-level Levenshtein
distance (substitutions + deletions + insertions) divided by the reference's word count.
"""

import re
from pathlib import Path

__all__ = ["character_error_rate", "normalise", "read_references", "word_error_rate"]

_APOSTROPHES = re.compile(r"['’]")
_NOT_WORD = re.compile(r"[^\w]+|_")
_REFERENCE_LINE = re.compile(r"^<s>\s*(?P<text>.*?)\s*</s>\s*\((?P<clip>[^)]+)\)\s*$")


def normalise(text: str) -> str:
    """Lower case, no punctuation, single spaces: the form both sides are compared in."""
    without_apostrophes = _APOSTROPHES.sub("", text.lower())
    return " ".join(_NOT_WORD.sub(" ", without_apostrophes).split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Edit distance between the normalised word sequences over the reference's length."""
    return _error_rate(normalise(reference).split(), normalise(hypothesis).split())


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Edit distance between the characters (no spaces, no punctuation) over the reference's
    count: the measure for Chinese and Japanese, written without spaces between words."""
    return _error_rate(
        list(normalise(reference).replace(" ", "")), list(normalise(hypothesis).replace(" ", ""))
    )


def _error_rate(ref: list[str], hyp: list[str]) -> float:
    """Levenshtein distance from `ref` to `hyp` over the length of `ref`."""
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, ref_item in enumerate(ref, start=1):
        current = [i]
        for j, hyp_item in enumerate(hyp, start=1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ref_item != hyp_item),  # substitution or match
                )
            )
        previous = current
    return previous[-1] / len(ref)


def read_references(path: Path) -> dict[str, str]:
    """Clip name → reference text, from a `<s> text </s> (clip)` transcription file."""
    references: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        match = _REFERENCE_LINE.match(line)
        if match is None:
            raise ValueError(f"not a reference line: {line!r}")
        references[match["clip"]] = match["text"]
    return references
