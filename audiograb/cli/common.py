"""What every subcommand shares: settings, exit codes and turning errors into one line.

The one rule (the README's "Errors follow one rule"): whatever goes wrong, a command ends
with one line on stderr, `error: <what happened> [<code>]`, and a non-zero exit: 2 for a
command line that cannot be parsed (`[usage]`) or a bad setting, 130 for Ctrl-C
(`[cancelled]`), 1 for everything else. The codes are the API's error codes.
"""

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import anyio
import asyncclick as click

from audiograb.config import Settings, SettingsError, load_settings
from audiograb.domain import (
    DEFAULT_PRIORITY,
    MAX_PRIORITY,
    MIN_PRIORITY,
    AudiograbError,
    ErrorCode,
    Quality,
)

P = ParamSpec("P")
R = TypeVar("R")

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: The line Ctrl-C (SIGINT) or SIGTERM ends every command with, whatever it was doing.
CANCELLED = "cancelled [cancelled]"
#: The code of a command line that cannot be parsed (not an API code: the API has no argv).
USAGE = "usage"


class CommandError(Exception):
    """A command stops with a one-line reason and an exit code (raised by `fail`).

    An exception, not `sys.exit` on the spot: raised inside `open_audiograb`, a `SystemExit`
    (a BaseException) would leave the actor system's task group wrapped in an exception group
    and print a traceback, while an `Exception` comes out of it unchanged. `reports_errors`,
    outside every task group, prints it and exits.
    """

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Stop the command: `reports_errors` prints `error: message` and exits with `code`."""
    raise CommandError(message, code)


def _exit(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class Interrupt:
    """Whether Ctrl-C (SIGINT) or SIGTERM arrived while a command ran."""

    def __init__(self) -> None:
        self.caught = False


@contextmanager
def ctrl_c_cancels() -> Iterator[Interrupt]:
    """Turn SIGINT and SIGTERM into a cancellation of the body, and say whether one came.

    Cancelling (not a KeyboardInterrupt at some random await) lets every layer clean up:
    a followed job is cancelled and its partial files removed, FFmpeg is stopped. The CLI
    always runs on asyncio (see `audiograb.server.main`), whose loop owns the handlers.
    """
    loop = asyncio.get_running_loop()
    interrupt = Interrupt()
    scope = anyio.CancelScope()

    def on_signal() -> None:
        interrupt.caught = True
        scope.cancel()

    signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)
    try:
        for number in signals:
            loop.add_signal_handler(number, on_signal)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread; Windows
        signals = ()
    try:
        with scope:
            yield interrupt
    finally:
        for number in signals:
            loop.remove_signal_handler(number)


def reports_errors(command: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn expected errors into a one-line message and a non-zero exit, never a traceback;
    Ctrl-C cancels the command and ends it with `error: cancelled [cancelled]`, exit 130."""

    @wraps(command)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        failure: CommandError | None = None
        with ctrl_c_cancels() as interrupt:
            try:
                return await command(*args, **kwargs)
            except Exception as error:
                failure = as_failure(error)
        # Interrupted: whatever the body made of it (FFmpeg got the SIGINT too), say so.
        if interrupt.caught or failure is None:
            _exit(CANCELLED, EXIT_INTERRUPTED)
        _exit(failure.message, failure.exit_code)

    return wrapper


def as_failure(error: Exception) -> CommandError:
    """The one line and exit code an error ends a command with."""
    if isinstance(error, CommandError):
        return error
    if isinstance(error, AudiograbError):
        return CommandError(f"{error.message} [{error.code.value}]", EXIT_FAILED)
    if isinstance(error, SettingsError):
        return CommandError(f"{error} [{ErrorCode.INVALID_REQUEST.value}]", EXIT_USAGE)
    if isinstance(error, OSError):
        return as_failure(os_failure(error))
    # A bug: still one line, with what to report.
    return CommandError(f"internal error, please report it: {error!r} [internal]", EXIT_FAILED)


def os_failure(error: OSError) -> AudiograbError:
    """An operating system's refusal as a typed error: a missing file, or one we cannot write."""
    where = f": {error.filename}" if error.filename else ""
    reason = f"{(error.strerror or str(error)).lower()}{where}"
    if isinstance(error, FileNotFoundError):
        return AudiograbError(ErrorCode.FILE_NOT_FOUND, reason)
    return AudiograbError(ErrorCode.NOT_WRITABLE, reason)


def run(group: click.Group, *, use_uvloop: bool = False) -> NoReturn:
    """Run the command line on asyncio and exit by the one error rule (module docstring).

    Click's own failures (an unknown option, a missing argument) become `[usage]` lines with
    exit 2 instead of Click's usage block; a file Click cannot open is `[file_not_found]`.
    """
    try:
        code = anyio.run(
            _main, group, backend="asyncio", backend_options={"use_uvloop": use_uvloop}
        )
    except KeyboardInterrupt:  # Ctrl-C before a command had taken the signal over
        _exit(CANCELLED, EXIT_INTERRUPTED)
    sys.exit(code)


async def _main(group: click.Group) -> int:
    try:
        result = await group.main(standalone_mode=False)
    except click.Abort:  # Click's reading of a KeyboardInterrupt
        _exit(CANCELLED, EXIT_INTERRUPTED)
    except click.exceptions.NoArgsIsHelpError as error:  # a bare `audiograb`: not a mistake
        click.echo(error.format_message())
        return 0
    except click.FileError as error:
        _exit(f"{error.format_message()} [{ErrorCode.FILE_NOT_FOUND.value}]", EXIT_FAILED)
    except click.ClickException as error:
        _exit(f"{error.format_message()} [{USAGE}]", EXIT_USAGE)
    except Exception as error:  # raised while parsing, e.g. by `ExistingFile`
        failure = as_failure(error)
        _exit(failure.message, failure.exit_code)
    return result if isinstance(result, int) else 0  # `--help` and `--version` give 0


class ExistingFile(click.ParamType[Path]):
    """A path argument that must name a file: else `[file_not_found]`, like every face says,
    not Click's usage error."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if not path.is_file():
            what = "a folder, not a file" if path.is_dir() else "no such file"
            raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"{what}: {value}")
        return path


class ReadableFile(click.File):
    """`click.File` for reading (`-` is stdin) whose missing file is `[file_not_found]`, as
    every face says, not Click's usage error."""

    def __init__(self) -> None:
        super().__init__("r", encoding="utf-8-sig")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as error:
            raise AudiograbError(ErrorCode.FILE_NOT_FOUND, f"cannot read {error.message}") from None


# Links people type or paste without a scheme, which the CLI still takes for URLs.
_SCHEMELESS = ("www.", "x.com/", "twitter.com/", "youtu.be/")


def looks_like_url(text: str) -> bool:
    """Whether a command-line argument is a link (`audiograb URL` means download)."""
    return "://" in text or text.startswith(_SCHEMELESS)


def with_scheme(url: str) -> str:
    """`x.com/i/spaces/ID` as typed becomes `https://x.com/i/spaces/ID`; the rest is unchanged
    (the platform registry, which wants a scheme, judges it)."""
    return f"https://{url}" if "://" not in url and url.startswith(_SCHEMELESS) else url


def settings_of(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings from the environment plus the group's `--data-dir` and the command's options."""
    data_dir: Path | None = ctx.find_root().params.get("data_dir")
    try:
        return load_settings(data_dir=data_dir, **overrides)
    except SettingsError as error:
        fail(f"{error} [{ErrorCode.INVALID_REQUEST.value}]", EXIT_USAGE)


def quality_option() -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`-q/--quality`: the bitrate preset, shared by every command that encodes."""
    return click.option(
        "-q",
        "--quality",
        type=click.Choice([q.value for q in Quality]),
        default=Quality.HIGH.value,
        show_default=True,
        help="Bitrate preset for lossy formats: low/medium/high/highest = 64/128/192/320 kbps.",
    )


def priority_option() -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`-p/--priority`: where new jobs go in the queue (higher runs first)."""
    return click.option(
        "-p",
        "--priority",
        type=click.IntRange(MIN_PRIORITY, MAX_PRIORITY),
        default=DEFAULT_PRIORITY,
        show_default=True,
        help="Higher runs first.",
    )


def overwrite_option() -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`--overwrite`: replace an existing output file instead of refusing."""
    return click.option(
        "--overwrite", is_flag=True, help="Replace the output file if it exists (default: refuse)."
    )
