"""The pipeline: actors that download, convert and schedule, behind the `Audiograb` facade.

async with open_audiograb(settings) as ag:
    job = await ag.submit(JobRequest(url=...))
    done = await ag.wait(job.id)
"""

from audiograb.config import Settings
from audiograb.domain import LinkInfo
from audiograb.pipeline import lookup
from audiograb.pipeline.facade import Audiograb
from audiograb.pipeline.messages import Converted, Recorded
from audiograb.pipeline.tree import open_audiograb
from audiograb.platforms import Platform, default_registry


def supported_platforms() -> tuple[Platform, ...]:
    """Every platform AudioGrab knows, for `audiograb platforms` and `/api/platforms`."""
    return default_registry().all()


async def look_up_link(
    settings: Settings, url: str, *, playlist: bool = False, fetch: bool = False
) -> LinkInfo:
    """`Audiograb.look_up` without opening the pipeline (no database, no actors).

    For `audiograb info`, which needs no job store to answer.
    """
    return await lookup.look_up(default_registry(), settings, url, playlist=playlist, fetch=fetch)


__all__ = [
    "Audiograb",
    "Converted",
    "Platform",
    "Recorded",
    "look_up_link",
    "open_audiograb",
    "supported_platforms",
]
