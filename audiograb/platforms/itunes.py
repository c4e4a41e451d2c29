"""The iTunes Search API: podcast lookups by id and searches by name.

`GET {base}/lookup?id=SHOW&entity=podcastEpisode&limit=N` answers the show (with its RSS
`feedUrl`) followed by its most recent episodes (`trackId`, `trackName`, `releaseDate`,
`episodeGuid`, `episodeUrl`); `GET {base}/search?term=NAME&media=podcast&entity=podcast`
answers shows. The base URL is a setting, so tests point it at a loopback fake.
"""

from typing import Any
from urllib.parse import urlencode

from audiograb.platforms.pages import dig, read_json
from audiograb.platforms.resolve import ResolveContext

__all__ = ["EPISODES_LIMIT", "is_episode", "is_show", "lookup", "search_shows"]

#: Episodes a lookup asks for: the API's maximum.
EPISODES_LIMIT = 200


def _get(ctx: ResolveContext, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    url = f"{ctx.itunes_api_base.rstrip('/')}{path}?{urlencode(params)}"
    page = ctx.fetch(url, accept="application/json")
    results = dig(read_json(page.text(), "the iTunes API answer"), "results")
    return [item for item in results or () if isinstance(item, dict)]


def lookup(ctx: ResolveContext, item_id: str, *, episodes: bool = False) -> list[dict[str, Any]]:
    """The items with this id; with `episodes`, a show's recent episodes follow it."""
    params = {"id": item_id}
    if episodes:
        params |= {"entity": "podcastEpisode", "limit": str(EPISODES_LIMIT)}
    return _get(ctx, "/lookup", params)


def search_shows(ctx: ResolveContext, term: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """Podcast shows whose name matches `term`, best first as the API ranks them."""
    params = {"term": term, "media": "podcast", "entity": "podcast", "limit": str(limit)}
    return _get(ctx, "/search", params)


def is_show(item: dict[str, Any]) -> bool:
    """A podcast show result (`kind: podcast`)."""
    return item.get("kind") == "podcast"


def is_episode(item: dict[str, Any]) -> bool:
    """A podcast episode result."""
    return item.get("wrapperType") == "podcastEpisode" or item.get("kind") == "podcast-episode"
