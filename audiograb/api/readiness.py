"""Readiness: can this instance do its work right now? Checked by `GET /api/ready`.

The database check goes through the facade (a count of jobs). Checks of what only the engines
know (is there an FFmpeg, is a whisper model resolvable) are handed in as `Probe`s by whoever
composes the app, since the API layer does not reach into the engines; `audiograb serve` passes
them (see `audiograb.server.probes`).
"""

from collections.abc import Awaitable, Callable, Mapping

import anyio

from audiograb.api.schemas import Check, Readiness
from audiograb.pipeline import Audiograb

__all__ = ["PROBE_TIMEOUT", "Probe", "check_readiness"]

Probe = Callable[[], Awaitable[str]]
"""A readiness check: returns a short detail when the dependency is usable, raises when not."""

#: Seconds one probe may take before it counts as failed.
PROBE_TIMEOUT = 5.0


def _database_probe(ag: Audiograb) -> Probe:
    """A probe that queries the job store through the facade."""

    async def probe() -> str:
        return f"{await ag.count()} jobs"

    return probe


async def _run(probe: Probe) -> Check:
    try:
        with anyio.fail_after(PROBE_TIMEOUT):
            return Check(ok=True, detail=await probe())
    except TimeoutError:
        return Check(ok=False, detail=f"no answer within {PROBE_TIMEOUT:g} s")
    except Exception as error:
        return Check(ok=False, detail=str(error) or type(error).__name__)


async def check_readiness(ag: Audiograb, probes: Mapping[str, Probe]) -> Readiness:
    """Run the database check and every probe; ready only when all pass."""
    checks = {"database": await _run(_database_probe(ag))}
    for name, probe in probes.items():
        checks[name] = await _run(probe)
    return Readiness(ready=all(check.ok for check in checks.values()), checks=checks)
