"""`POST /api/resolve`: what a link maps to, without creating anything (the link look-up)."""

from http import HTTPStatus
from typing import Annotated

import msgspec
from litestar import post
from litestar.params import JSONBody

from audiograb.api.context import Api
from audiograb.api.errors import URL_CHECKS, error_responses
from audiograb.domain import LinkInfo

__all__ = ["ResolveBody", "resolve_link"]


class ResolveBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/resolve`: the link, and whether to ask the network about it."""

    url: Annotated[str, msgspec.Meta(min_length=1, description="An http(s) URL of a page or file")]
    playlist: bool = False
    """Whether a playlist link would be submitted as a playlist (`playlist: expanded`)."""
    fetch: bool = False
    """Also fetch the media's title and duration (network; the SSRF policy applies)."""


@post(
    "/api/resolve",
    status_code=200,
    tags=["links"],
    summary="Look a link up",
    responses=error_responses(*URL_CHECKS, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
)
async def resolve_link(data: JSONBody[ResolveBody], api: Api) -> LinkInfo:
    """The platform a link maps to, what kind of link it is, its canonical URL and what a
    download would do with a playlist; no job is made and, unless `fetch` is set, nothing is
    fetched. An unknown path on a known site is 422 `unsupported_url`, a malformed link 422
    `invalid_url`, a recognised but not yet downloadable one 422 `unsupported_yet`.
    """
    return await api.ag.look_up(data.url, playlist=data.playlist, fetch=data.fetch)
