"""Live transcription sessions: a hub with a capacity, sessions that stream audio to events.

    async with ag.live_session(language="en") as session:
        session.feed(pcm16_frame)            # as the audio arrives
        async for event in session.events(): # Partial, Final, Stats
            ...
        session.stop()
        done = await session.done()          # Done(text=..., polished=...)

The wire protocol that carries these over a WebSocket is in docs/live-protocol.md.
"""

from audiograb.pipeline.live.events import (
    Done,
    Final,
    LiveCode,
    LiveError,
    LiveEvent,
    Partial,
    Stats,
)
from audiograb.pipeline.live.hub import LiveHub
from audiograb.pipeline.live.polish import Polisher
from audiograb.pipeline.live.session import MAX_FRAME_BYTES, LiveSession

__all__ = [
    "MAX_FRAME_BYTES",
    "Done",
    "Final",
    "LiveCode",
    "LiveError",
    "LiveEvent",
    "LiveHub",
    "LiveSession",
    "Partial",
    "Polisher",
    "Stats",
]
