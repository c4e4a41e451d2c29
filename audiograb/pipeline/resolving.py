"""Before and around a download: resolve the link, write the job's cookies, fetch cover art.

The glue between platforms (resolvers that only know `ResolveContext`) and engines (the guarded
HTTP fetch, yt-dlp's YouTube search). Everything here blocks and runs on the downloader's
worker thread, except `preparation_for`, which only builds values.

Test seam: resolvers search YouTube through this module's `search_youtube`, looked up at call
time, so a test replaces it with `monkeypatch.setattr(resolving, "search_youtube", fake)`;
YouTube itself cannot be faked on a loopback server.
"""

import logging
import os
import time
from collections.abc import Collection
from pathlib import Path

import msgspec

from audiograb.config import Settings
from audiograb.domain import AudiograbError, ErrorCode, MediaInfo
from audiograb.engines import http, ytdlp
from audiograb.engines.netguard import AddressPolicy
from audiograb.platforms import MatchedUrl
from audiograb.platforms.resolve import (
    FetchedPage,
    ResolveContext,
    Resolved,
    Resolver,
    SearchHit,
)

__all__ = [
    "COOKIES_NAME",
    "COVER_NAME",
    "Preparation",
    "XCookies",
    "cover_in",
    "merge_media",
    "preparation_for",
    "search_youtube",
]

_log = logging.getLogger(__name__)

#: Largest page, JSON answer or feed a resolver reads (long-running shows have big feeds).
FETCH_MAX_BYTES = 32 * 1024 * 1024
#: Largest cover picture fetched.
COVER_MAX_BYTES = 8 * 1024 * 1024
#: The cover picture in a job's work folder; FFmpeg and PyAV recognise it by its content.
COVER_NAME = ".cover-art"
#: The job's own cookies file, written when X cookies are configured.
COOKIES_NAME = ".cookies.txt"
#: Platforms whose pages are X's: they get the `x_auth_token` / `x_ct0` cookies.
X_PLATFORMS = frozenset({"x_spaces", "x_video"})
#: Platforms yt-dlp always downloads through FFmpeg (allowed under a restrictive policy).
FFMPEG_PLATFORMS = frozenset({"x_spaces"})
_X_DOMAINS = (".x.com", ".twitter.com")
_COOKIE_LIFETIME = 365 * 24 * 3600


class XCookies(msgspec.Struct, frozen=True, kw_only=True):
    """X session cookies from the settings; never logged (the repr hides them)."""

    auth_token: str
    ct0: str | None = None

    def __repr__(self) -> str:
        return "XCookies(<hidden>)"


def search_youtube(query: str, options: ytdlp.DownloadOptions) -> list[SearchHit]:
    """YouTube search for resolvers (Spotify tracks): yt-dlp's `ytsearch5:`."""
    return [
        SearchHit(url=hit.url, title=hit.title, uploader=hit.uploader, duration=hit.duration)
        for hit in ytdlp.search_youtube(query, options)
    ]


class Preparation(msgspec.Struct, frozen=True, kw_only=True):
    """What a download needs besides yt-dlp's options: a resolver, cookies, a fetcher."""

    matched: MatchedUrl
    resolver: Resolver | None
    policy: AddressPolicy
    timeout: float
    itunes_api_base: str
    spotify_base: str
    xiaoyuzhou_base: str
    x_cookies: XCookies | None = None

    def fetch(
        self, url: str, *, accept: str | None = None, only: Collection[str] | None = None
    ) -> FetchedPage:
        """The guarded fetch resolvers get: the job's address policy, the size limit."""
        response = http.guarded_fetch(
            url,
            policy=self.policy,
            timeout=self.timeout,
            max_bytes=FETCH_MAX_BYTES,
            accept=accept,
            only=only,
        )
        return FetchedPage(
            url=response.url,
            status=response.status,
            content_type=response.content_type,
            body=response.body,
            filename=response.filename,
        )

    def resolve(self, options: ytdlp.DownloadOptions) -> Resolved | None:
        """Run the platform's resolver (blocking); None when yt-dlp reads the link itself."""
        if self.resolver is None:
            return None
        context = ResolveContext(
            fetch=self.fetch,
            search=lambda query: search_youtube(query, options),
            itunes_api_base=self.itunes_api_base,
            spotify_base=self.spotify_base,
            xiaoyuzhou_base=self.xiaoyuzhou_base,
        )
        return self.resolver(self.matched, context)

    def with_cookies(self, options: ytdlp.DownloadOptions) -> ytdlp.DownloadOptions:
        """Options whose cookies file also holds the X cookies (a private copy, mode 0600).

        The user's own cookies file is copied, not changed: yt-dlp writes its cookie jar back
        to the file it was given when it finishes.
        """
        if self.x_cookies is None:
            return options
        path = options.work_dir / COOKIES_NAME
        try:
            base = Path(options.cookies_file).read_text() if options.cookies_file else ""
        except OSError as error:
            raise AudiograbError(
                ErrorCode.INVALID_REQUEST, f"cannot read the cookies file: {error.strerror}"
            ) from error
        lines = [line for line in base.splitlines() if line.strip()] or [
            "# Netscape HTTP Cookie File"
        ]
        expires = int(time.time()) + _COOKIE_LIFETIME
        cookies = {"auth_token": self.x_cookies.auth_token, "ct0": self.x_cookies.ct0}
        for domain in _X_DOMAINS:
            for name, value in cookies.items():
                if value:
                    lines.append(f"{domain}\tTRUE\t/\tTRUE\t{expires}\t{name}\t{value}")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        return msgspec.structs.replace(options, cookies_file=str(path))

    def fetch_cover(self, media: MediaInfo, work_dir: Path) -> Path | None:
        """Fetch the media's thumbnail into the work folder; a failure only loses the cover."""
        if not media.thumbnail:
            return None
        try:
            response = http.guarded_fetch(
                media.thumbnail,
                policy=self.policy,
                timeout=self.timeout,
                max_bytes=COVER_MAX_BYTES,
                accept="image/jpeg, image/png, image/*;q=0.8",
                only=("image/",),
            )
        except AudiograbError as error:
            _log.info("no cover art for %s: %s", self.matched.url, error.message)
            return None
        if not response.body:
            return None
        path = work_dir / COVER_NAME
        path.write_bytes(response.body)
        return path


def preparation_for(
    settings: Settings, matched: MatchedUrl, resolver: Resolver | None, policy: AddressPolicy
) -> Preparation:
    """The preparation of one job's download, from the settings."""
    x_cookies = None
    if matched.platform.id in X_PLATFORMS and settings.x_auth_token:
        x_cookies = XCookies(auth_token=settings.x_auth_token, ct0=settings.x_ct0)
    return Preparation(
        matched=matched,
        resolver=resolver,
        policy=policy,
        timeout=settings.socket_timeout,
        itunes_api_base=settings.itunes_api_base,
        spotify_base=settings.spotify_base,
        xiaoyuzhou_base=settings.xiaoyuzhou_base,
        x_cookies=x_cookies,
    )


def merge_media(found: MediaInfo, resolved: Resolved | None) -> MediaInfo:
    """yt-dlp's view of the file, overridden by every field the resolver knew."""
    if resolved is None:
        return found
    known = {
        field: value
        for field in MediaInfo.__struct_fields__
        if (value := getattr(resolved.media, field)) not in (None, False)
    }
    return msgspec.structs.replace(found, **known)


def cover_in(work_dir: Path) -> Path | None:
    """The cover picture fetched for a job, if any (it survives a restart with the folder)."""
    path = work_dir / COVER_NAME
    return path if path.is_file() else None
