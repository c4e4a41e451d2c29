"""`create_app(ag)`: the Litestar app over one `Audiograb`, ready to serve or to embed.

The app owns no lifecycle: whoever made the `Audiograb` (the `serve` command, or an embedding
application's own lifespan) keeps it open for as long as the app serves. Before it stops, it
calls `end_event_streams(app)` so that open event streams finish instead of holding the
server's shutdown up.
"""

from collections.abc import Mapping, Sequence

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components
from litestar.types import ControllerRouterHandler

from audiograb.api.access import KEY_SCHEMES, Doorkeeper, access_guard
from audiograb.api.bodies import ApiRequest
from audiograb.api.context import ApiContext
from audiograb.api.errors import exception_handlers
from audiograb.api.openapi import ClosedStructs
from audiograb.api.ratelimit import RateLimiter
from audiograb.api.readiness import Probe
from audiograb.api.request_ids import request_id_middleware
from audiograb.api.routes import (
    annotations,
    batches,
    docs,
    events,
    jobs,
    legacy,
    links,
    live,
    meta,
    queue,
    removal,
    schedules,
    transcripts,
    uploads,
    webhooks,
)
from audiograb.api.sse import StreamCloser
from audiograb.config import Settings
from audiograb.pipeline import Audiograb

__all__ = ["DEFAULT_KEEPALIVE", "create_app", "end_event_streams"]

#: Seconds of silence after which an event stream sends a keepalive comment.
DEFAULT_KEEPALIVE = 15.0

_STATE_KEY = "audiograb_api"

_ROUTES = (
    meta.health,
    meta.ready,
    meta.platforms,
    meta.models,
    meta.metrics,
    docs.docs_asset,
    links.resolve_link,
    jobs.submit_download,
    jobs.list_jobs,
    jobs.get_job,
    jobs.cancel_job,
    jobs.retry_job,
    removal.remove_job,
    jobs.get_job_file,
    jobs.head_job_file,
    transcripts.submit_transcription,
    transcripts.get_transcript,
    uploads.upload_file,
    events.job_events,
    events.all_events,
    events.events_head,
    legacy.legacy_submit,
    legacy.legacy_status,
    legacy.legacy_cancel,
    queue.show_queue,
    queue.change_priority,
    batches.submit_batch,
    batches.upload_batch,
    batches.list_batches,
    batches.get_batch,
    batches.cancel_batch,
    schedules.create_schedule,
    schedules.list_schedules,
    schedules.get_schedule,
    schedules.move_schedule,
    schedules.cancel_schedule,
    webhooks.list_endpoints,
    webhooks.register_endpoint,
    webhooks.list_deliveries,
    webhooks.send_test,
    annotations.create_annotation,
    annotations.list_annotations,
    annotations.get_annotation,
    annotations.update_annotation,
    annotations.delete_annotation,
    annotations.annotation_socket,
    live.live_transcription,
)


def create_app(
    ag: Audiograb,
    *,
    settings: Settings | None = None,
    probes: Mapping[str, Probe] | None = None,
    keepalive: float = DEFAULT_KEEPALIVE,
    extra_routes: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """The REST API over `ag`.

    `settings` default to `ag.settings` (keys, rate limit, body size); `probes` are the extra
    readiness checks `/api/ready` runs besides the database (FFmpeg, whisper model);
    `keepalive` is the SSE keepalive period; `extra_routes` are served beside the API under
    the same guard (the web pages, which `serve` composes in: edges never import each other).
    """
    settings = settings or ag.settings
    doorkeeper = Doorkeeper(settings.named_api_keys, RateLimiter(settings.rate_limit_per_minute))
    context = ApiContext(
        ag=ag,
        settings=settings,
        doorkeeper=doorkeeper,
        streams=StreamCloser(),
        keepalive=keepalive,
        probes=dict(probes or {}),
    )

    def provide_context() -> ApiContext:
        return context

    return Litestar(
        route_handlers=[*_ROUTES, *extra_routes],
        middleware=[request_id_middleware],
        dependencies={"api": Provide(provide_context, sync_to_thread=False, use_cache=True)},
        guards=[access_guard(doorkeeper)],
        exception_handlers=exception_handlers(),
        request_max_body_size=settings.max_request_bytes,
        request_class=ApiRequest,
        openapi_config=OpenAPIConfig(
            title="AudioGrab",
            version=meta.service_version(),
            description="Download, convert and follow jobs; see docs/api.md.",
            path="/api/schema",
            render_plugins=[docs.SWAGGER],
            components=Components(security_schemes=dict(KEY_SCHEMES)),
            security=[{name: []} for name in KEY_SCHEMES] if settings.api_keys else None,
        ),
        plugins=[ClosedStructs()],
        state=State({_STATE_KEY: context}),
        # None: Litestar leaves the root logger alone (its default replaces the handlers that
        # `configure_logging`, or an embedding application, installed).
        logging_config=None,
        on_shutdown=[context.streams.close],
    )


def end_event_streams(app: Litestar) -> None:
    """Finish every open event stream of `app` now and refuse none later (server shutdown)."""
    context: ApiContext = app.state[_STATE_KEY]
    context.streams.close()
