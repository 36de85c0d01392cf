"""Contract: accounts (register, token, me), the sign-in throttle, token forgery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from tests.support.api import bearer, customer, sign_in, unique_email
from tests.support.credentials import PASSWORD


async def test_register_returns_user_without_password(client):
    email = unique_email()
    response = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "Ann"})
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "email": email, "name": "Ann", "role": "customer"}
    assert "password" not in response.text and "hash" not in response.text


async def test_email_is_case_insensitive_and_unique(client):
    email = unique_email()
    await customer(client, email)
    again = await client.post("/api/v1/auth/register", json={"email": email.upper(), "password": PASSWORD, "name": "B"})
    assert again.status_code == 409
    assert again.json()["code"] == "email_taken"
    await sign_in(client, email.upper())


async def test_register_validates_fields(client):
    cases = [
        {"email": "not-an-email", "password": PASSWORD, "name": "A"},
        {"email": unique_email(), "password": "short", "name": "A"},
        {"email": unique_email(), "password": "x" * 129, "name": "A"},
        {"email": unique_email(), "password": PASSWORD, "name": ""},
        {"email": unique_email(), "password": PASSWORD, "name": "n" * 201},
        {"email": unique_email(), "password": PASSWORD},
    ]
    for body in cases:
        response = await client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"


async def test_token_and_me(client):
    user, headers = await customer(client)
    response = await client.post("/api/v1/auth/token", data={"username": user["email"], "password": PASSWORD})
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = await client.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 200 and me.json() == user


async def test_wrong_password_and_unknown_email_answer_alike(client):
    user, _ = await customer(client)
    wrong = await client.post("/api/v1/auth/token", data={"username": user["email"], "password": "wrong password"})
    unknown = await client.post("/api/v1/auth/token", data={"username": unique_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"


async def test_sixth_failed_sign_in_is_throttled_with_retry_after(client):
    user, _ = await customer(client)
    for _ in range(5):
        response = await client.post("/api/v1/auth/token", data={"username": user["email"], "password": "nope-nope"})
        assert response.status_code == 401
    throttled = await client.post("/api/v1/auth/token", data={"username": user["email"], "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "too_many_requests"
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    # Another email from the same client is not affected.
    other, _ = await customer(client)
    await sign_in(client, other["email"])


async def test_missing_malformed_expired_and_forged_tokens_are_401(client, app):
    user, _ = await customer(client)
    key = app.state.services.settings.secret_key
    now = datetime.now(UTC)
    expired = jwt.encode({"sub": str(user["id"]), "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)}, key, "HS256")
    forged = jwt.encode({"sub": str(user["id"]), "exp": now + timedelta(hours=1)}, "another key entirely", "HS256")
    unsigned = jwt.encode({"sub": str(user["id"]), "exp": now + timedelta(hours=1)}, None, "none")
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}, bearer("garbage"),
                    bearer(expired), bearer(forged), bearer(unsigned)):
        response = await client.get("/api/v1/users/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "not_authenticated"
        assert response.headers["WWW-Authenticate"] == "Bearer"
