"""Routes about the service itself: liveness, readiness, the platforms it knows and the
whisper models it has."""

from importlib.metadata import PackageNotFoundError, version

from litestar import Response, get
from litestar.openapi import ResponseSpec

from audiograb.api.access import PUBLIC
from audiograb.api.context import Api
from audiograb.api.errors import error_responses
from audiograb.api.readiness import check_readiness
from audiograb.api.schemas import Health, Readiness
from audiograb.pipeline import InstalledModels, Platform

__all__ = ["health", "metrics", "models", "platforms", "ready", "service_version"]


def service_version() -> str:
    """The installed audiograb version."""
    try:
        return version("audiograb")
    except PackageNotFoundError:
        return "unknown"


@get(
    "/api/health",
    opt={PUBLIC: True},
    security=[{}],  # no key needed, whatever the rest of the API asks
    tags=["service"],
    summary="Liveness",
)
async def health() -> Health:
    """The process is up and serving. Never needs an API key and is never rate limited."""
    return Health(status="ok", version=service_version())


@get(
    "/api/ready",
    tags=["service"],
    summary="Readiness",
    response_description="Every check passed",
    responses={
        503: ResponseSpec(Readiness, description="A check failed", generate_examples=False),
        **error_responses(),
    },
)
async def ready(api: Api) -> Response[Readiness]:
    """Whether the database, FFmpeg and the whisper model are usable; 503 when one is not."""
    readiness = await check_readiness(api.ag, api.probes)
    return Response(readiness, status_code=200 if readiness.ready else 503)


@get("/api/platforms", tags=["service"], summary="Supported platforms", responses=error_responses())
async def platforms(api: Api) -> list[Platform]:
    """Every platform with example URLs, whether it serves video and whether it works yet."""
    return list(api.ag.platforms())


@get("/api/models", tags=["service"], summary="Installed models", responses=error_responses())
async def models(api: Api) -> InstalledModels:
    """The whisper models installed here, each with the languages it speaks; the default model,
    the default per language, and every language some installed model speaks (what `/live`
    offers). A job or live session asking another language gets `unsupported_language`."""
    return await api.ag.models()


@get(
    "/metrics",
    tags=["service"],
    summary="Prometheus metrics",
    media_type="text/plain; version=0.0.4",  # Litestar adds the charset to text/ types
    responses=error_responses(),
)
async def metrics(api: Api) -> bytes:
    """Jobs by state, queue depth, job durations, bytes, live sessions and event-loop lag.

    Needs the API key like every route but health: configure the scraper's bearer token.
    """
    return await api.ag.metrics()
