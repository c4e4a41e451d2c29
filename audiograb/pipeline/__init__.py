"""The pipeline: actors that download, convert and schedule, behind the `Audiograb` facade.

async with open_audiograb(settings) as ag:
    job = await ag.submit(JobRequest(url=...))
    done = await ag.wait(job.id)
"""

from audiograb.pipeline.facade import Audiograb
from audiograb.pipeline.messages import Converted, Recorded
from audiograb.pipeline.models import InstalledModels, installed_models, language_policy
from audiograb.pipeline.tree import open_audiograb
from audiograb.platforms import Platform, default_registry


def supported_platforms() -> tuple[Platform, ...]:
    """Every platform AudioGrab knows, for `audiograb platforms` and `/api/platforms`."""
    return default_registry().all()


__all__ = [
    "Audiograb",
    "Converted",
    "InstalledModels",
    "Platform",
    "Recorded",
    "installed_models",
    "language_policy",
    "open_audiograb",
    "supported_platforms",
]
