"""Webhooks: endpoints and their signing secrets, the delivery log, and a test message."""

from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Response, get, post
from litestar.params import JSONBody, QueryParameter

from audiograb.api.context import Api
from audiograb.api.errors import URL_CHECKS, error_responses
from audiograb.api.paging import Offset
from audiograb.api.schemas import WebhookUrl
from audiograb.store import Attempt, Endpoint, Message, MessageStatus

__all__ = [
    "DeliveryView",
    "EndpointBody",
    "TestBody",
    "list_deliveries",
    "list_endpoints",
    "register_endpoint",
    "send_test",
]

_S = HTTPStatus


class EndpointBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/webhooks/endpoints`: a URL to send webhooks to."""

    url: WebhookUrl


class TestBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/webhooks/test`: where to send a `webhook.test` (null: the default URL)."""

    url: WebhookUrl | None = None


class DeliveryView(msgspec.Struct, frozen=True, kw_only=True):
    """One webhook message: what was sent where, and every try."""

    id: str
    """The `webhook-id` header."""
    url: str
    endpoint_id: str
    type: str
    payload: dict[str, Any]
    job_id: str | None
    batch_id: str | None
    created_at: float
    status: MessageStatus
    attempts: int
    next_attempt_at: float | None
    delivered_at: float | None
    log: list[Attempt]


def delivery_view(message: Message) -> DeliveryView:
    """The client's view of a message."""
    return DeliveryView(
        id=message.id,
        url=message.url,
        endpoint_id=message.endpoint_id,
        type=message.type,
        payload=msgspec.json.decode(message.body),
        job_id=message.job_id,
        batch_id=message.batch_id,
        created_at=message.created_at,
        status=message.status,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at if message.status == "pending" else None,
        delivered_at=message.delivered_at,
        log=message.log,
    )


@get(
    "/api/webhooks/endpoints",
    tags=["webhooks"],
    summary="List webhook endpoints",
    responses=error_responses(),
)
async def list_endpoints(api: Api) -> list[Endpoint]:
    """Every endpoint with its signing secret (`whsec_…`) to verify signatures with."""
    return await api.ag.webhooks.endpoints()


@post(
    "/api/webhooks/endpoints",
    status_code=201,
    tags=["webhooks"],
    summary="Register a webhook endpoint",
    responses=error_responses(*URL_CHECKS, _S.REQUEST_ENTITY_TOO_LARGE),
)
async def register_endpoint(data: JSONBody[EndpointBody], api: Api) -> Response[Endpoint]:
    """The endpoint for a URL, made with a fresh secret if new (idempotent); 403 for a URL the
    SSRF guard refuses."""
    return Response(await api.ag.webhooks.register(data.url), status_code=201)


@get(
    "/api/webhooks/deliveries",
    tags=["webhooks"],
    summary="The webhook delivery log",
    responses=error_responses(),
)
async def list_deliveries(
    api: Api,
    job_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    batch_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    status: Annotated[MessageStatus | None, QueryParameter()] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[DeliveryView]:
    """Messages, newest first, with each try's status code, error and duration."""
    found = await api.ag.webhooks.deliveries(
        job_id=job_id, batch_id=batch_id, status=status, limit=limit, offset=offset
    )
    return [delivery_view(message) for message in found]


@post(
    "/api/webhooks/test",
    status_code=202,
    tags=["webhooks"],
    summary="Send a test webhook",
    responses=error_responses(*URL_CHECKS, _S.REQUEST_ENTITY_TOO_LARGE),
)
async def send_test(data: JSONBody[TestBody], api: Api) -> Response[list[DeliveryView]]:
    """Queue a `webhook.test` message; follow it in the delivery log."""
    messages = await api.ag.webhooks.send_test(data.url)
    return Response([delivery_view(message) for message in messages], status_code=202)
