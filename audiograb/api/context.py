"""What every route handler gets injected: the facade and the app's own settings and state.

One `ApiContext` per app, made by `create_app` and handed to handlers as the `api` dependency;
nothing lives in module globals, so several apps (over several `Audiograb`s) can coexist.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from litestar.di import NamedDependency

from audiograb.api.access import Doorkeeper
from audiograb.api.readiness import Probe
from audiograb.api.sse import FrameCache, StreamCloser
from audiograb.config import Settings
from audiograb.domain import AudiograbError, ErrorCode, Job
from audiograb.pipeline import Audiograb

__all__ = ["Api", "ApiContext"]

_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class ApiContext:
    """The facade plus the app's settings, doorkeeper, stream closer, readiness probes and
    the cache of encoded event frames."""

    ag: Audiograb
    settings: Settings
    doorkeeper: Doorkeeper
    streams: StreamCloser
    keepalive: float
    """Seconds of silence before an event stream sends a keepalive comment."""
    probes: Mapping[str, Probe]
    frames: FrameCache = field(default_factory=FrameCache)
    """Event frames encoded once for every stream that sends them."""

    async def job(self, job_id: str) -> Job:
        """The job with this id; `job_not_found` for an unknown or malformed id."""
        if _JOB_ID.fullmatch(job_id) is None:
            raise AudiograbError(ErrorCode.JOB_NOT_FOUND, "no such job")
        return await self.ag.get(job_id)


Api = NamedDependency[ApiContext]
"""How handlers declare the context: `api: Api`."""
