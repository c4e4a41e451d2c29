"""Small guarded HTTP GETs for resolvers and cover art: pages, JSON, feeds and images.

Every connection, redirects included, runs inside `netguard.guarded(policy)`, so the SSRF guard
checks the address each socket really connects to. Redirects go only to http(s) URLs, at most
`MAX_REDIRECTS` of them. Bodies are read up to `max_bytes` (more is `too_large`), and failures
leave as typed errors: 404/410 `not_found`, 401/403 `auth_required`, 429/5xx and connection
problems `network`, other statuses `download_failed`. Synchronous: run it on a worker thread.
"""

import http.client
import urllib.error
import urllib.request
from collections.abc import Collection
from typing import IO, Any

import msgspec

from audiograb.domain import AudiograbError, ErrorCode
from audiograb.engines.netguard import AddressPolicy, check_url, guarded

__all__ = ["DEFAULT_MAX_BYTES", "MAX_REDIRECTS", "USER_AGENT", "HttpResponse", "guarded_fetch"]

#: The largest body read by default: pages and feeds are far smaller (big feeds reach ~10 MB).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 10
#: Sent with every request; some sites answer bare HTTP clients with an empty shell page.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) AudioGrab"
_CHUNK = 64 * 1024


class HttpResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A response: the final URL (after redirects), status, Content-Type header and body."""

    url: str
    status: int
    content_type: str
    body: bytes
    filename: str | None = None
    """The file name a `Content-Disposition` header gives (RFC 6266, `filename*` included),
    without any folder part; None when there is none."""


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) URLs only, and not too many of them."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not newurl.lower().startswith(("http://", "https://")):
            raise AudiograbError(
                ErrorCode.FORBIDDEN_ADDRESS, f"refusing a redirect to a non-http URL: {newurl}"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def guarded_fetch(
    url: str,
    *,
    policy: AddressPolicy,
    timeout: float,
    max_bytes: int = DEFAULT_MAX_BYTES,
    accept: str | None = None,
    only: Collection[str] | None = None,
) -> HttpResponse:
    """GET `url` under `policy`; return the final URL, status, type and body.

    `only` lists media-type prefixes worth reading; a response of any other type is returned
    with an empty body, unread (so probing a URL that turns out to be a media file costs one
    request's headers, not the file).
    """
    check_url(url, policy)
    headers = {"User-Agent": USER_AGENT, "Accept": accept or "*/*"}
    opener = urllib.request.build_opener(_HttpOnlyRedirects())
    request = urllib.request.Request(url, headers=headers)
    try:
        with guarded(policy), opener.open(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            media_type = content_type.split(";", 1)[0].strip().lower()
            wanted = only is None or any(media_type.startswith(prefix) for prefix in only)
            body = _read(response, url, max_bytes) if wanted else b""
            return HttpResponse(
                url=response.geturl(),
                status=response.status,
                content_type=content_type,
                body=body,
                filename=_filename(response.headers),
            )
    except AudiograbError:
        raise
    except urllib.error.HTTPError as error:
        raise _status_error(url, error.code) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, AudiograbError):
            raise reason from None
        raise AudiograbError(ErrorCode.NETWORK, f"cannot fetch {url}: {reason}") from error


def _filename(headers: http.client.HTTPMessage) -> str | None:
    """The name in `Content-Disposition: attachment; filename*=UTF-8''Episode%201.mp3`."""
    name = headers.get_filename()
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or None


def _read(response: Any, url: str, max_bytes: int) -> bytes:
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise _too_large(url, max_bytes)
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(url, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(url: str, max_bytes: int) -> AudiograbError:
    return AudiograbError(ErrorCode.TOO_LARGE, f"{url} is larger than {max_bytes} bytes")


def _status_error(url: str, status: int) -> AudiograbError:
    if status in (404, 410):
        return AudiograbError(ErrorCode.NOT_FOUND, f"{url} was not found (HTTP {status})")
    if status in (401, 403):
        return AudiograbError(ErrorCode.AUTH_REQUIRED, f"{url} refused access (HTTP {status})")
    if status == 429 or status >= 500:
        return AudiograbError(ErrorCode.NETWORK, f"{url} failed with HTTP {status}; try later")
    return AudiograbError(ErrorCode.DOWNLOAD_FAILED, f"{url} answered HTTP {status}")
