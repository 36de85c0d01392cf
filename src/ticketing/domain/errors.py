"""Domain errors. The API maps each one to a status and a code in one table."""

from __future__ import annotations


class DomainError(Exception):
    message = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)

    @property
    def detail(self) -> str | list[dict[str, object]]:
        """What the answer's ``detail`` says: a sentence, or a list of problems with the input."""
        return str(self)


class NotAuthenticated(DomainError):
    """No valid token: missing, malformed, expired, forged, or naming no account."""

    message = "Not authenticated."


class UserMissing(NotAuthenticated):
    """A validly signed token of an account that no longer exists. Nothing was written."""

    message = "Invalid or expired token."


class SessionEnded(NotAuthenticated):
    """A validly signed token whose sign-in session is over: signed out, signed out everywhere,
    ended by a password change, or its account is gone."""

    message = "Invalid or expired token."


class NotFound(DomainError):
    pass


class EventNotFound(NotFound):
    message = "Event not found."


class UserNotFound(NotFound):
    message = "User not found."


class BookingNotFound(NotFound):
    message = "Booking not found."


class TicketNotFound(NotFound):
    message = "Ticket not found."


class Forbidden(DomainError):
    message = "You are not allowed to do this."


class InvalidCredentials(DomainError):
    message = "Incorrect email or password."


class TooManyRequests(DomainError):
    """Too many attempts from one client address; ``retry_after`` seconds until the next may."""

    message = "Too many requests from your address. Try again later."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


class TooManySignInAttempts(TooManyRequests):
    message = "Too many failed sign-in attempts. Try again later."


class EmailTaken(DomainError):
    message = "An account with this email already exists."


class QuantityAboveLimit(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"At most {limit} tickets can be booked at once for this event.")
        self.limit = limit


class SalesClosed(DomainError):
    message = "Sales for this event are closed."


class TicketsSoldOut(DomainError):
    message = "Tickets are no longer available. Please try again."

    def __init__(self, available: int, items: tuple[tuple[int, int], ...] = ()) -> None:
        super().__init__()
        self.available = max(available, 0)
        # (ticket type id, available) for every type the request named.
        self.items = tuple((type_id, max(left, 0)) for type_id, left in items)


class CustomerLimitReached(DomainError):
    def __init__(self, remaining: int) -> None:
        super().__init__(f"You can book at most {max(remaining, 0)} more tickets for this event.")
        self.remaining = max(remaining, 0)


class TicketTypeNotFound(NotFound):
    message = "Ticket type not found for this event."


class TicketTypeRequired(DomainError):
    message = "This event has several ticket types: name them in items."


class TicketTypeLimit(DomainError):
    message = "An event has at most 20 ticket types."


class TicketTypeInUse(DomainError):
    message = "This ticket type is named by bookings, or is the event's last one."


class CheckoutLocked(DomainError):
    message = "Checkout cannot change once the event has bookings."


class LimitBelowBooked(DomainError):
    """A per-customer limit below what one buyer holds or bought already (checkout.md, invariant 7:
    their PENDING and CONFIRMED quantities never exceed it)."""

    def __init__(self, booked: int) -> None:
        super().__init__(f"The per-customer limit cannot be lower than the {booked} tickets one buyer has booked.")
        self.booked = booked


class InvalidSignature(DomainError):
    message = "Missing, invalid or stale Ticketing-Signature."


class AmountMismatch(DomainError):
    message = "The payment's amount or currency differs from the booking's."


class PaymentConflict(DomainError):
    message = "The booking's payment is not in a state that allows this."


class CapacityBelowSold(DomainError):
    """A capacity below what is taken: tickets sold plus tickets held by PENDING bookings, which
    are promised to their buyers until they pay or their hold ends."""

    def __init__(self, taken: int) -> None:
        super().__init__(f"Capacity cannot be lower than the {taken} tickets already sold or held.")
        self.taken = taken


class AlreadyCheckedIn(DomainError):
    message = "This ticket has already been checked in."


class TicketVoid(DomainError):
    message = "This ticket is void."


class RequestInProgress(DomainError):
    message = "A request with this Idempotency-Key is still in progress. Retry shortly."


class IdempotencyKeyMismatch(DomainError):
    message = "This Idempotency-Key was used with a different request."


class InvalidInput(DomainError):
    """Malformed or invalid input; ``errors`` says where (pydantic's type, loc and msg)."""

    message = "Invalid input."

    def __init__(self, errors: list[dict[str, object]]) -> None:
        super().__init__()
        self.errors = errors

    @property
    def detail(self) -> str | list[dict[str, object]]:
        return self.errors


class PayloadTooLarge(DomainError):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"Request body is larger than {limit_bytes // 1024} KiB.")


class ServiceUnavailable(DomainError):
    """The database cannot be reached or is overloaded (not a business outcome)."""

    message = "The service is temporarily unavailable. Please retry."


class WebhookNotConfigured(ServiceUnavailable):
    message = "Payment webhooks are not configured (TICKETING_PAYMENT_WEBHOOK_SECRET)."
