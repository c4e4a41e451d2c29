"""`audiograb platforms`: what we can grab, with example URLs."""

import asyncclick as click

from audiograb.pipeline import supported_platforms


@click.command("platforms")
async def command() -> None:
    """List the supported platforms and example URLs."""
    for platform in supported_platforms():
        status = "" if platform.available else f"  ({platform.availability_note})"
        click.echo(f"{platform.name}{status}")
        for url in platform.example_urls:
            click.echo(f"    {url}")
