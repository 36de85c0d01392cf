"""Domain errors. The API maps each one to a status and a code in one table."""

from __future__ import annotations


class DomainError(Exception):
    message = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)

    @property
    def detail(self) -> str:
        return str(self)


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


class TooManySignInAttempts(DomainError):
    message = "Too many failed sign-in attempts. Try again later."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


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

    def __init__(self, available: int) -> None:
        super().__init__()
        self.available = max(available, 0)


class CapacityBelowSold(DomainError):
    def __init__(self, tickets_sold: int) -> None:
        super().__init__(f"Capacity cannot be lower than the {tickets_sold} tickets already sold.")
        self.tickets_sold = tickets_sold


class AlreadyCheckedIn(DomainError):
    message = "This ticket has already been checked in."


class TicketVoid(DomainError):
    message = "This ticket is void."


class RequestInProgress(DomainError):
    message = "A request with this Idempotency-Key is still in progress. Retry shortly."


class IdempotencyKeyMismatch(DomainError):
    message = "This Idempotency-Key was used with a different request."


class ServiceUnavailable(DomainError):
    """The database cannot be reached or is overloaded (not a business outcome)."""

    message = "The service is temporarily unavailable. Please retry."
