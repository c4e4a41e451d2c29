"""Readiness: can this instance do its work right now? Checked by `GET /api/ready`.

The database check goes through the facade (a count of jobs); the disk check measures the free
space of the data and output folders against `min_free_disk_mb`, so a filling disk shows here
before jobs start failing with `disk_full` (and clears by itself once room is made).

Checks of what only the engines know (is there an FFmpeg, is a whisper model resolvable) are
handed in as `Probe`s by whoever composes the app, since the API layer does not reach into the
engines; `audiograb serve` passes them (see `audiograb.server.probes`).
"""

import shutil
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

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


MB = 1024 * 1024


def _disk_probe(ag: Audiograb) -> Probe:
    """A probe that fails when the data or the output folder has less room than it should."""
    folders = dict.fromkeys([ag.settings.data_dir, ag.settings.output_root])
    wanted = ag.settings.min_free_disk_mb

    def measure() -> str:
        details = []
        for folder in folders:
            free = shutil.disk_usage(_existing(folder)).free // MB
            details.append(f"{free} MB free in {folder}")
            if free < wanted:
                raise RuntimeError(f"{details[-1]}, less than the {wanted} MB wanted")
        return "; ".join(details)

    async def probe() -> str:
        return await anyio.to_thread.run_sync(measure)

    return probe


def _existing(folder: Path) -> Path:
    """`folder`, or its nearest ancestor that exists (the output folder is made on demand)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


async def _run(probe: Probe) -> Check:
    try:
        with anyio.fail_after(PROBE_TIMEOUT):
            return Check(ok=True, detail=await probe())
    except TimeoutError:
        return Check(ok=False, detail=f"no answer within {PROBE_TIMEOUT:g} s")
    except Exception as error:
        return Check(ok=False, detail=str(error) or type(error).__name__)


async def check_readiness(ag: Audiograb, probes: Mapping[str, Probe]) -> Readiness:
    """Run the database and disk checks and every probe; ready only when all pass."""
    checks = {
        "database": await _run(_database_probe(ag)),
        "disk": await _run(_disk_probe(ag)),
    }
    for name, probe in probes.items():
        checks[name] = await _run(probe)
    return Readiness(ready=all(check.ok for check in checks.values()), checks=checks)
