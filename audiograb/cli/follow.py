"""Follow a job to its end with a live progress line; Ctrl-C cancels it cleanly."""

import contextlib
import sys

import anyio

from audiograb.cli.common import CANCELLED, EXIT_INTERRUPTED, fail
from audiograb.cli.progress import ProgressLine
from audiograb.domain import AudiograbError, ErrorCode, Job, JobError, JobState, describe_gaps
from audiograb.pipeline import Audiograb


async def follow(ag: Audiograb, job_id: str) -> Job:
    """Show the job's progress until it ends; return it in its final state.

    Cancelled (Ctrl-C: see `reports_errors`), it cancels the job first, so its partial files
    go and the database says `cancelled`, not a job for the next start to resume.
    """
    line = ProgressLine(sys.stderr, retry_limit=ag.settings.retry_limit)
    try:
        async with ag.subscribe(job_id) as events:
            async for recorded in events:
                line.show(recorded.event)
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True), contextlib.suppress(AudiograbError):
            await ag.cancel(job_id)  # `invalid_state` when it ended meanwhile
        raise
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
        fail(CANCELLED, EXIT_INTERRUPTED)
    error = job.error or JobError(
        code=ErrorCode.INTERRUPTED, message=f"the job ended {job.state.value}"
    )
    reason = f"{error.message} [{error.code.value}]"
    fail(reason)
