"""Follow a job to its end with a live progress line; Ctrl-C cancels it cleanly."""

import signal
import sys

import anyio

from audiograb.cli.common import EXIT_INTERRUPTED, fail
from audiograb.cli.progress import ProgressLine
from audiograb.domain import Job, JobState, describe_gaps
from audiograb.pipeline import Audiograb


async def _cancel_on_interrupt(ag: Audiograb, job_id: str) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            await ag.cancel(job_id)
            return


async def follow(ag: Audiograb, job_id: str) -> Job:
    """Show the job's progress until it ends; return it in its final state."""
    line = ProgressLine(sys.stderr)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_cancel_on_interrupt, ag, job_id)
            async with ag.subscribe(job_id) as events:
                async for recorded in events:
                    line.show(recorded.event)
            group.cancel_scope.cancel()
    finally:
        line.close()
    return await ag.get(job_id)


def finish(job: Job) -> None:
    """Print where the file went (and a warning on stderr when parts of the media could not
    be fetched), or stop the command with the one-line reason (`fail`).

    Called once `open_audiograb` has closed, so the file is reported after the actors stop.
    """
    if job.state is JobState.COMPLETED and job.output_path:
        print(job.output_path)
        if job.gaps:
            print(f"warning: {describe_gaps(job.gaps)} [missing_segments]", file=sys.stderr)
        return
    if job.state is JobState.CANCELLED:
        fail("cancelled; partial files were removed", EXIT_INTERRUPTED)
    reason = f"{job.error.message} [{job.error.code.value}]" if job.error else job.state.value
    fail(reason)
