"""Sorts driver errors into: contention (retry), unavailable (503), capacity (409), other."""

from __future__ import annotations

import asyncio
import enum

from sqlalchemy import exc as sa_exc

from ticketing.domain.errors import DomainError, ServiceUnavailable, TicketsSoldOut

CAPACITY_MESSAGE = "exceeds available capacity"
# Every refusal of the database's own guards (the triggers' and CHECKs' of migrations 0003-0004):
# the event's room, a ticket type's cap, a buyer's per-customer limit. Each aborts the statement.
_REFUSALS = (
    CAPACITY_MESSAGE, "exceeds the per-customer limit", "ck_event_sales_within_capacity",
    "ck_ticket_types_within_capacity",
)
# serialization_failure, deadlock_detected, lock_not_available
_CONTENTION_SQLSTATES = {"40001", "40P01", "55P03"}
# admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections, query_canceled
# (statement timeout), and the connection exception class 08xxx.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300", "57014"}
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def _sqlstate(error: BaseException) -> str | None:
    orig = getattr(error, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None), error):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_contention(error: BaseException) -> bool:
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if _sqlstate(error) in _CONTENTION_SQLSTATES:
        return True
    message = str(error.orig).lower()
    return isinstance(error, sa_exc.OperationalError) and any(m in message for m in _SQLITE_BUSY)


def is_capacity_refusal(error: BaseException) -> bool:
    return isinstance(error, sa_exc.DBAPIError) and any(refusal in str(error.orig) for refusal in _REFUSALS)


def is_unique_violation(error: BaseException, constraint: str) -> bool:
    if not isinstance(error, sa_exc.IntegrityError):
        return False
    message = str(error.orig)
    return constraint in message or (_sqlstate(error) == "23505" and constraint in repr(error.orig))


def is_foreign_key_violation(error: BaseException) -> bool:
    if not isinstance(error, sa_exc.IntegrityError):
        return False
    return _sqlstate(error) == "23503" or "FOREIGN KEY constraint failed" in str(error.orig)


def foreign_key_names_user(error: BaseException) -> bool:
    """A foreign-key violation naming a user column (the account is gone), as opposed to one
    naming the event or a ticket type (deleted while the statement ran). PostgreSQL names the
    constraint (``bookings_user_id_fkey``); SQLite names none, and runs one writer, so nothing
    can be deleted under its statement: there it is always the user."""
    orig = getattr(error, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if isinstance(name, str):
            return "user_id" in name or "created_by" in name
    return True


def is_unavailable(error: BaseException) -> bool:
    """The database cannot be reached, went away, or is too busy to answer in time."""
    if isinstance(error, (sa_exc.TimeoutError, asyncio.TimeoutError, TimeoutError, OSError)):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        state = _sqlstate(error) or ""
        if state in _UNAVAILABLE_SQLSTATES or state.startswith("08"):
            return True
        return isinstance(error, (sa_exc.InterfaceError, sa_exc.OperationalError)) and not is_contention(error)
    name = type(error).__name__
    # asyncpg raises its own connection errors outside SQLAlchemy's wrapping at connect time.
    return name in {"ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError",
                    "InterfaceError", "InternalClientError"} or "Connection" in name


class ErrorKind(enum.Enum):
    CONTENTION = "contention"  # lost a race for a lock: the same work may succeed when run again
    UNAVAILABLE = "unavailable"  # the database is unreachable, gone or too slow: 503, not a retry
    OTHER = "other"  # the work's own outcome (a constraint, a bug): the caller's to handle


def classify(error: BaseException) -> ErrorKind:
    """What a driver error means to the write path; the one place the two sorts are combined.

    A lost lock race counts as contention even when the driver also reports it in a way that
    looks like a lost connection: running it again is the right answer to both.
    """
    if is_contention(error):
        return ErrorKind.CONTENTION
    if is_unavailable(error):
        return ErrorKind.UNAVAILABLE
    return ErrorKind.OTHER


def as_domain_error(error: BaseException) -> DomainError | None:
    """The contract's outcome for a database error that reached the API unsorted, if it has one.

    Belt and braces: the repositories and ``Database`` turn these into domain errors where they
    happen; this keeps an oversight from ever becoming a 5xx for a refusal or an outage.
    """
    if is_capacity_refusal(error):
        return TicketsSoldOut(0)
    if classify(error) is not ErrorKind.OTHER:
        return ServiceUnavailable()
    return None


def is_dead_connection(error: BaseException) -> bool:
    """A pooled connection that turned out closed (SQLAlchemy invalidated it), not a timeout."""
    if not (isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated):
        return False
    causes: list[BaseException] = [error]
    for _ in range(16):  # the error, its driver error and their causes, bounded
        if not causes:
            break
        cause = causes.pop()
        if isinstance(cause, (TimeoutError, asyncio.TimeoutError)) or "Timeout" in type(cause).__name__:
            return False
        causes += [c for c in (getattr(cause, "orig", None), cause.__cause__, cause.__context__) if c is not None]
    return True
