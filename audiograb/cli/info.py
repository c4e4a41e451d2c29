"""`audiograb info URL`: what a link maps to, without downloading (yt-dlp's `--simulate`)."""

import asyncclick as click
import msgspec

from audiograb.cli.common import reports_errors, settings_of, with_scheme
from audiograb.cli.progress import human_duration
from audiograb.domain import LinkInfo, PlaylistHandling
from audiograb.pipeline import look_up_link

_PLAYLIST_NOTES = {
    PlaylistHandling.REFUSED: "refused: pass --playlist to download it as a playlist",
    PlaylistHandling.ITEM_ONLY: "this item only (pass --playlist for the whole list)",
    PlaylistHandling.EXPANDED: "downloaded as a playlist",
}


@click.command("info")
@click.argument("url")
@click.option("--playlist", is_flag=True, help="As `download --playlist` would take the link.")
@click.option(
    "--fetch", is_flag=True, help="Also ask the site for the title and duration (network)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON object.")
@click.pass_context
@reports_errors
async def command(ctx: click.Context, url: str, playlist: bool, fetch: bool, as_json: bool) -> None:
    """Show the platform, kind and canonical form of URL; nothing is downloaded.

    Without --fetch no network is used: the answer comes from the link's shape alone.
    """
    info = await look_up_link(settings_of(ctx), with_scheme(url), playlist=playlist, fetch=fetch)
    if as_json:
        click.echo(msgspec.json.encode(info).decode())
    else:
        for label, value in describe_lines(info):
            click.echo(f"{label + ':':<10}{value}")


def describe_lines(info: LinkInfo) -> list[tuple[str, str]]:
    """The answer as labelled lines, the ones that say something only."""
    lines = [
        ("platform", f"{info.platform_name} ({info.platform})"),
        ("kind", info.kind.value),
        ("url", info.url),
        ("media", ", ".join(kind.value for kind in info.media_kinds)),
        ("formats", " ".join(fmt.value for fmt in info.formats)),
    ]
    if info.playlist is not PlaylistHandling.NONE:
        lines.append(("playlist", _PLAYLIST_NOTES[info.playlist]))
    if info.needs_cookies:
        lines.append(("cookies", "private or age-restricted items need a cookies file"))
    media = info.media
    if media is not None:
        lines += [
            (label, value)
            for label, value in (
                ("title", media.title),
                ("by", media.uploader),
                ("date", media.date),
                ("duration", human_duration(media.duration) if media.duration else None),
                ("live", "yes" if media.is_live else None),
            )
            if value
        ]
    if info.note:
        lines.append(("note", info.note))
    return lines
