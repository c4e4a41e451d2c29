"""The composition root: the one place that puts the faces together.

Edges never import each other; this package, above them all, adds the commands that need more
than one of them (`audiograb serve` runs the API) to the CLI, and is the console entry point.
"""

import importlib.util

from audiograb.cli import cli
from audiograb.cli.common import run
from audiograb.server import serve
from audiograb.server.bot_command import bot_command

cli.add_command(serve.command)
cli.add_command(bot_command)


def main() -> None:
    """Console-script entry point of `audiograb` and `xdownloader`.

    The loop is uvloop's where it is installed (it comes with `uvicorn[standard]`): its I/O
    costs a fraction of the stock loop's, which hundreds of open event streams feel.
    """
    run(cli, use_uvloop=importlib.util.find_spec("uvloop") is not None)


__all__ = ["main"]
