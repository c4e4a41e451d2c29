"""Resolver fixtures: the fake sites answered in memory, through a `ResolveContext`."""

import urllib.parse
from collections.abc import Collection, Sequence

import pytest

from audiograb.domain import AudiograbError, ErrorCode
from audiograb.platforms.resolve import FetchedPage, ResolveContext, SearchHit
from tests.fakesites import FakeSites

BASE = "https://fake.test"


class MemoryFetch:
    """A `Fetcher` that answers from a `FakeSites` without a socket, and logs what it got."""

    def __init__(self, sites: FakeSites) -> None:
        self.sites = sites
        self.seen: list[str] = []
        self.redirects: dict[str, str] = {}

    def __call__(
        self, url: str, *, accept: str | None = None, only: Collection[str] | None = None
    ) -> FetchedPage:
        self.seen.append(url)
        url = self.redirects.get(url, url)
        parts = urllib.parse.urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != BASE:
            raise AudiograbError(ErrorCode.NETWORK, f"no such host in the test: {url}")
        query = dict(urllib.parse.parse_qsl(parts.query))
        status, content_type, body = self.sites._answer(parts.path, query)
        if status == 404:
            raise AudiograbError(ErrorCode.NOT_FOUND, f"{url} was not found (HTTP 404)")
        wanted = only is None or any(content_type.startswith(prefix) for prefix in only)
        return FetchedPage(
            url=url, status=status, content_type=content_type, body=body if wanted else b""
        )


class FakeSearch:
    """A YouTube search answering canned hits and recording queries."""

    def __init__(self) -> None:
        self.hits: list[SearchHit] = []
        self.queries: list[str] = []

    def __call__(self, query: str) -> Sequence[SearchHit]:
        self.queries.append(query)
        return self.hits


@pytest.fixture
def sites() -> FakeSites:
    return FakeSites(base_url=BASE)


@pytest.fixture
def fetch(sites: FakeSites) -> MemoryFetch:
    return MemoryFetch(sites)


@pytest.fixture
def search() -> FakeSearch:
    return FakeSearch()


@pytest.fixture
def ctx(fetch: MemoryFetch, search: FakeSearch) -> ResolveContext:
    return ResolveContext(
        fetch=fetch,
        search=search,
        itunes_api_base=BASE,
        spotify_base=BASE,
        xiaoyuzhou_base=BASE,
    )
