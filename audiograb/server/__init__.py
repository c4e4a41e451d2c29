"""The composition root: the one place that puts the faces together.

Edges never import each other; this package, above them all, adds the commands that need more
than one of them (`audiograb serve` runs the API) to the CLI, and is the console entry point.
"""

from audiograb.cli import cli
from audiograb.cli.common import run
from audiograb.server import serve
from audiograb.server.bot_command import bot_command

cli.add_command(serve.command)
cli.add_command(bot_command)


def main() -> None:
    """Console-script entry point of `audiograb` and `xdownloader`."""
    run(cli)


__all__ = ["main"]
