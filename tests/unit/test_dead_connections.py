"""Which database errors a read may run again: a pooled connection found closed, never a timeout."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from ticketing.db.errors import is_dead_connection


class ConnectionDoesNotExistError(Exception):
    """Named like asyncpg's: a connection closed under the pool."""


def _wrapped(orig: Exception, *, invalidated: bool) -> DBAPIError:
    return DBAPIError("SELECT 1", None, orig, connection_invalidated=invalidated)


def test_a_closed_pooled_connection_is_dead() -> None:
    assert is_dead_connection(_wrapped(ConnectionDoesNotExistError("connection was closed"), invalidated=True))


def test_a_timeout_or_a_live_connection_is_not() -> None:
    timed_out = _wrapped(TimeoutError(), invalidated=True)
    assert not is_dead_connection(timed_out)
    try:
        raise OperationalError("SELECT 1", None, Exception("x"), connection_invalidated=True) from TimeoutError()
    except OperationalError as error:
        assert not is_dead_connection(error)
    assert not is_dead_connection(_wrapped(ConnectionDoesNotExistError(), invalidated=False))
    assert not is_dead_connection(ValueError("not a database error"))
