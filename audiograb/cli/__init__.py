"""The `audiograb` command line (also installed as `xdownloader`).

The console entry point is `audiograb.server.main`, which adds the commands that start
servers to this group.
"""

from audiograb.cli.app import cli

__all__ = ["cli"]
