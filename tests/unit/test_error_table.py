"""The one error table: every answer's status, code and headers come from it, and so do the
routes' OpenAPI responses and what `ticketing storm` accepts as a contract answer."""

from __future__ import annotations

import json

from ticketing.api import errors
from ticketing.api.routers.bookings import BOOKING_ERRORS
from ticketing.domain import errors as e
from ticketing.storm.checks import CONTRACT_BOOKING_ANSWERS


def _answer(error: e.DomainError, retry_after: int = 2) -> tuple[int, dict[str, object], dict[str, str]]:
    response = errors.ErrorAnswers(retry_after).answer(error)
    return response.status_code, json.loads(bytes(response.body)), dict(response.headers)


def test_storm_accepts_exactly_what_the_booking_route_may_answer() -> None:
    documented = errors.documented(*BOOKING_ERRORS)
    from_table = {
        (errors.ERRORS[error].status, errors.ERRORS[error].code)
        for error in (*BOOKING_ERRORS, e.PayloadTooLarge, e.InvalidInput, e.ServiceUnavailable)
    }
    assert from_table == CONTRACT_BOOKING_ANSWERS
    assert {status for status, _ in from_table} == set(documented)


def test_retry_after_comes_from_the_settings() -> None:
    status, body, headers = _answer(e.ServiceUnavailable(), retry_after=7)
    assert (status, body["code"], headers["retry-after"]) == (503, "unavailable", "7")
    status, body, headers = _answer(e.TooManySignInAttempts(retry_after=42))
    assert (status, body["code"], headers["retry-after"]) == (429, "too_many_requests", "42")


def test_every_401_carries_the_bearer_challenge() -> None:
    """HTTP requires WWW-Authenticate on every 401; a missing account answers as not_authenticated."""
    for error in (e.NotAuthenticated(), e.UserMissing()):
        status, body, headers = _answer(error)
        assert (status, body["code"], headers["www-authenticate"]) == (401, "not_authenticated", "Bearer")
    status, body, headers = _answer(e.InvalidCredentials())
    assert (status, body["code"], headers["www-authenticate"]) == (401, "invalid_credentials", "Bearer")


def test_sold_out_carries_what_is_left_and_invalid_input_lists_the_problems() -> None:
    assert _answer(e.TicketsSoldOut(3, ((7, 1),)))[1] == {
        "detail": e.TicketsSoldOut.message, "code": "sold_out", "available": 3, "items": [{"ticket_type_id": 7, "available": 1}],
    }
    problems = [{"type": "missing", "loc": ["body", "quantity"], "msg": "Field required"}]
    assert _answer(e.InvalidInput(problems))[:2] == (422, {"detail": problems, "code": "validation_error"})


def test_every_domain_error_has_an_answer() -> None:
    def leaves(cls: type[e.DomainError]) -> list[type[e.DomainError]]:
        return [cls, *(leaf for sub in cls.__subclasses__() for leaf in leaves(sub))]

    missing = [cls.__name__ for cls in leaves(e.DomainError)
               if cls not in (e.DomainError, e.NotFound) and not any(c in errors.ERRORS for c in cls.__mro__)]
    assert missing == []
