"""Optional clean-up of a live transcript by an OpenAI-compatible chat completions endpoint.

Off unless `polish_url` is set. The model gets the raw transcript and an instruction to fix
punctuation, casing and obvious mis-hearings without adding or removing content; the caller
keeps the raw text beside whatever comes back.
"""

import httpx
import msgspec

from audiograb.config import Settings
from audiograb.pipeline.live.events import LiveCode, LiveError

__all__ = ["Polisher"]

#: Seconds a polish request may take before the raw text is returned alone.
POLISH_TIMEOUT = 60.0

_INSTRUCTION = (
    "You clean up speech-recognition transcripts. Fix punctuation, capitalisation and "
    "obvious mis-recognised words. Do not add, remove, summarise or translate content. "
    "Reply with the corrected transcript only."
)


class _Message(msgspec.Struct, frozen=True):
    content: str | None = None


class _Choice(msgspec.Struct, frozen=True):
    message: _Message


class _Completion(msgspec.Struct, frozen=True):
    choices: list[_Choice]


_DECODER = msgspec.json.Decoder(_Completion)


class Polisher:
    """Calls the configured chat completions endpoint."""

    def __init__(self, url: str, *, model: str, api_key: str | None) -> None:
        self._url = url
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    @classmethod
    def from_settings(cls, settings: Settings) -> "Polisher | None":
        """A polisher when `polish_url` is set, else None (polishing is off)."""
        if not settings.polish_url:
            return None
        return cls(
            settings.polish_url, model=settings.polish_model, api_key=settings.polish_api_key
        )

    async def polish(self, text: str) -> str:
        """The polished text; `polish_failed` (not fatal) when the endpoint fails us."""
        body = {
            "model": self._model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": _INSTRUCTION},
                {"role": "user", "content": text},
            ],
        }
        try:
            async with httpx.AsyncClient(timeout=POLISH_TIMEOUT) as client:
                response = await client.post(self._url, json=body, headers=self._headers)
                response.raise_for_status()
            content = _DECODER.decode(response.content).choices[0].message.content
        except (httpx.HTTPError, msgspec.ValidationError, msgspec.DecodeError, IndexError) as exc:
            raise LiveError(LiveCode.POLISH_FAILED, f"polishing failed: {exc}") from exc
        if not content or not content.strip():
            raise LiveError(LiveCode.POLISH_FAILED, "polishing returned no text")
        return content.strip()
