"""The payment provider's webhook, the development payment page's endpoint, public config."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import ValidationError

from ticketing.api.auth_first import AuthFirst
from ticketing.api.deps import CurrentUser, ServicesDep
from ticketing.api.errors import COMMON_ERRORS, documented, invalid_input
from ticketing.api.schemas import DevPaymentIn, PublicConfigOut, WebhookIn, WebhookOut
from ticketing.api.services import Services
from ticketing.app import payments
from ticketing.app.payments import ProviderEvent
from ticketing.domain import errors as e

router = APIRouter(tags=["payments"], responses=COMMON_ERRORS, route_class=AuthFirst)
SIGNATURE_HEADER = "Ticketing-Signature"


@router.post(
    "/payments/webhook", response_model=WebhookOut,
    responses=documented(e.InvalidSignature, e.BookingNotFound, e.AmountMismatch),
    openapi_extra={
        "parameters": [{"name": SIGNATURE_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
                        "description": "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>"}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": WebhookIn.model_json_schema()}}},
    },
)
async def webhook(request: Request, services: ServicesDep) -> WebhookOut:
    """The provider's signed notice of a payment. Each provider event ``id`` has one effect,
    however often and however concurrently it is delivered: every delivery gets its answer."""
    body = await request.body()
    return await _deliver(services, request.headers.get(SIGNATURE_HEADER), body)


async def _deliver(services: Services, signature: str | None, body: bytes) -> WebhookOut:
    secret = services.settings.payment_webhook_secret
    if secret is None:
        raise e.WebhookNotConfigured()
    now = datetime.now(UTC)
    payments.verify_signature(secret.get_secret_value(), signature, body, now)  # before the body is read
    try:
        notice = WebhookIn.model_validate_json(body)
    except ValidationError as error:
        raise invalid_input(error.errors()) from None
    result = await payments.receive_provider_event(
        services.store,
        ProviderEvent(notice.id, notice.type, notice.reference, notice.amount, notice.currency),
        now,
    )
    return WebhookOut(booking_id=result.booking_id, status=result.status.value)


@router.post(
    "/dev/payments", response_model=WebhookOut,
    responses=documented(e.NotAuthenticated, e.NotFound, e.BookingNotFound, e.AmountMismatch),
)
async def dev_payment(body: DevPaymentIn, user: CurrentUser, services: ServicesDep) -> WebhookOut:
    """Development only (``TICKETING_DEV_PAYMENTS``; otherwise 404): plays the provider for the
    caller's own booking (any booking for an admin), signing and delivering a webhook with the
    service's own secret, through the same code a real delivery takes."""
    if not services.settings.dev_payments:
        raise e.NotFound("Not Found")
    booking = await services.store.bookings.by_reference(body.reference)
    if booking is None or not (user.is_admin or booking.user_id == user.id):
        raise e.BookingNotFound()
    secret = services.settings.payment_webhook_secret
    if secret is None:
        raise e.WebhookNotConfigured()
    notice = WebhookIn(
        id=f"dev_{secrets.token_urlsafe(12)}", type=f"payment.{body.outcome}", reference=body.reference,
        amount=booking.total_amount, currency=booking.currency,
    )
    raw = notice.model_dump_json().encode()
    signature = payments.sign(secret.get_secret_value(), int(datetime.now(UTC).timestamp()), raw)
    return await _deliver(services, signature, raw)


@router.get("/config", response_model=PublicConfigOut)
async def public_config(services: ServicesDep) -> PublicConfigOut:
    """What the web app needs to know of this server's settings."""
    return PublicConfigOut(dev_payments=services.settings.dev_payments)
