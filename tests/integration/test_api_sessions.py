"""Contract: sign out, change the password, sign out everywhere, create-admin resetting a
password; a revoked token gets 401 at once, on this app, on another app on the same database,
and for a booking (the booking statement itself checks the session)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.api import admin, book, create_event, customer, in_process_client, sign_in
from tests.support.credentials import PASSWORD
from tests.support.server import run_cli
from ticketing.domain.models import Caller

LOGOUT = "/api/v1/auth/logout"
PASSWORD_CHANGE = "/api/v1/users/me/password"
EVERYWHERE = "/api/v1/users/me/sign-out-everywhere"
ME = "/api/v1/users/me"
NEW_PASSWORD = "a brand new passphrase"


async def _is_signed_in(client, headers) -> bool:  # type: ignore[no-untyped-def]
    response = await client.get(ME, headers=headers)
    assert response.status_code in (200, 401), response.text
    if response.status_code == 401:
        assert response.json()["code"] == "not_authenticated"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    return response.status_code == 200


async def test_logout_revokes_that_token_only(client):
    user, first = await customer(client)
    second = await sign_in(client, user["email"])
    response = await client.post(LOGOUT, headers=first)
    assert response.status_code == 204 and response.content == b""
    assert not await _is_signed_in(client, first)
    assert await _is_signed_in(client, second)
    again = await client.post(LOGOUT, headers=first)
    assert again.status_code == 401 and again.json()["code"] == "not_authenticated"
    assert (await client.post(LOGOUT)).status_code == 401


async def test_a_revoked_token_books_nothing(client, app):
    event = await create_event(client, await admin(client, app), capacity=10)
    _, headers = await customer(client)
    assert (await book(client, headers, event["id"], 2)).status_code == 201
    await client.post(LOGOUT, headers=headers)
    for quantity, key in ((1, None), (1, "after-logout"), (50, None)):  # sold out or over the limit: 401 first
        refused = await book(client, headers, event["id"], quantity, idempotency_key=key)
        assert refused.status_code == 401 and refused.json()["code"] == "not_authenticated", refused.text
    after = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert after["tickets_sold"] == 2


async def test_a_revoked_admin_token_cannot_book_for_someone_else(client, app):
    admin_headers = await admin(client, app)
    event = await create_event(client, admin_headers)
    buyer, _ = await customer(client)
    await client.post(LOGOUT, headers=admin_headers)
    refused = await book(client, admin_headers, event["id"], 1, user_id=buyer["id"])
    assert refused.status_code == 401 and refused.json()["code"] == "not_authenticated"


async def test_password_change_needs_the_current_password_and_revokes_every_token(client):
    user, first = await customer(client)
    second = await sign_in(client, user["email"])
    wrong = await client.post(PASSWORD_CHANGE, headers=first,
                              json={"current_password": "not my password", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    assert await _is_signed_in(client, first) and await _is_signed_in(client, second)

    weak = await client.post(PASSWORD_CHANGE, headers=first, json={"current_password": PASSWORD, "new_password": "password"})
    assert weak.status_code == 422 and weak.json()["code"] == "validation_error"

    changed = await client.post(PASSWORD_CHANGE, headers=first,
                                json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204
    assert not await _is_signed_in(client, first) and not await _is_signed_in(client, second)
    old = await client.post("/api/v1/auth/token", data={"username": user["email"], "password": PASSWORD})
    assert old.status_code == 401
    assert await _is_signed_in(client, await sign_in(client, user["email"], NEW_PASSWORD))


async def test_password_change_validates_its_body(client):
    _, headers = await customer(client)
    for body in ({"current_password": PASSWORD}, {"new_password": NEW_PASSWORD},
                 {"current_password": "x" * 129, "new_password": NEW_PASSWORD},
                 {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "role": "admin"}):
        response = await client.post(PASSWORD_CHANGE, headers=headers, json=body)
        assert response.status_code == 422, body
    anonymous = await client.post(PASSWORD_CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert anonymous.status_code == 401


async def test_sign_out_everywhere_revokes_every_token_of_the_caller_only(client):
    user, first = await customer(client)
    second = await sign_in(client, user["email"])
    _, someone_else = await customer(client)
    assert (await client.post(EVERYWHERE, headers=second)).status_code == 204
    assert not await _is_signed_in(client, first) and not await _is_signed_in(client, second)
    assert await _is_signed_in(client, someone_else)
    assert await _is_signed_in(client, await sign_in(client, user["email"]))  # a new sign-in works


async def test_create_admin_resetting_a_password_revokes_earlier_tokens(client, database_url):
    user, headers = await customer(client)
    run_cli(database_url, "create-admin", "--email", user["email"], "--password", NEW_PASSWORD)
    assert not await _is_signed_in(client, headers)
    promoted = await client.get(ME, headers=await sign_in(client, user["email"], NEW_PASSWORD))
    assert promoted.json()["role"] == "admin"


async def test_a_token_revoked_on_one_app_is_refused_at_once_by_another(client, make_app, database_url):
    """Two processes on one database: the second has verified (and cached) the token's
    signature; revocation on the first is still seen by the second's very next request."""
    other = await make_app(database_url=database_url)
    user, headers = await customer(client)
    async with in_process_client(other) as elsewhere:
        assert await _is_signed_in(elsewhere, headers)
        await client.post(LOGOUT, headers=headers)
        assert not await _is_signed_in(elsewhere, headers)

        second = await sign_in(client, user["email"])
        assert await _is_signed_in(elsewhere, second)
        await client.post(EVERYWHERE, headers=second)
        assert not await _is_signed_in(elsewhere, second)


async def test_sessions_are_not_shared_between_accounts(client, app):
    """A token names its account and its session: the two must belong together."""
    services = app.state.services
    first, _ = await customer(client)
    second, _ = await customer(client)
    now = datetime.now(UTC)
    session = await services.store.sessions.start(first["id"], now, now + services.tokens.lifetime)
    mixed = {"Authorization": f"Bearer {services.tokens.issue(Caller(second['id'], session))}"}
    assert not await _is_signed_in(client, mixed)
