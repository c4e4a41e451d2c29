"""What every subcommand shares: settings, exit codes and turning errors into one line."""

import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import asyncclick as click

from audiograb.config import Settings, SettingsError, load_settings
from audiograb.domain import DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY, AudiograbError, Quality

P = ParamSpec("P")
R = TypeVar("R")

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


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


def reports_errors(command: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn expected errors into a one-line message and a non-zero exit, never a traceback."""

    @wraps(command)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await command(*args, **kwargs)
        except CommandError as failure:
            _exit(failure.message, failure.exit_code)
        except AudiograbError as error:
            _exit(f"{error.message} [{error.code.value}]")
        except SettingsError as error:
            _exit(str(error), EXIT_USAGE)
        except OSError as error:
            _exit(f"{error.strerror or error} ({error.filename or 'no file'})")
        except Exception as error:  # a bug: still one line, with what to report
            _exit(f"internal error, please report it: {error!r} [internal]")

    return wrapper


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
        fail(str(error), EXIT_USAGE)


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
