"""Every export endpoint needs a valid bearer token: otherwise a JSON 401 with a challenge."""

from __future__ import annotations

import time

import jwt
import pytest
from api_support import EXPORTS, SECRET, VALID_BODY, Client, auth
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.auth import Authenticator
from api.devtoken import mint_token
from api.errors import Unauthenticated
from api.settings import Settings


async def assert_401(client: Client, headers: dict[str, str], message: str) -> None:
    response = await client.post(EXPORTS, json=VALID_BODY, headers=headers)
    assert response.status == 401
    assert await response.json() == {
        "statusCode": 401,
        "message": message,
        "error": "Unauthorized",
    }
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


async def test_missing_token(client: Client) -> None:
    await assert_401(client, {}, "Missing bearer token")


async def test_not_a_bearer_token(client: Client) -> None:
    await assert_401(
        client,
        {"Authorization": "Basic dXNlcjpwYXNz"},
        "Authorization header must be 'Bearer <token>'",
    )


async def test_bad_signature(client: Client) -> None:
    token = mint_token("another-secret-of-at-least-32-bytes!!", sub="u", email="u@example.com")
    await assert_401(client, {"Authorization": f"Bearer {token}"}, "Token signature is invalid")


async def test_expired_token(client: Client) -> None:
    headers = auth("user-a", now=time.time() - 7200, ttl=3600)
    await assert_401(client, headers, "Token has expired")


async def test_wrong_audience(client: Client) -> None:
    await assert_401(client, auth("user-a", audience="another-api"), "Token audience is invalid")


async def test_wrong_issuer(client: Client) -> None:
    await assert_401(client, auth("user-a", issuer="someone-else"), "Token issuer is invalid")


async def test_garbage_token(client: Client) -> None:
    await assert_401(client, {"Authorization": "Bearer not.a.jwt"}, "Token is malformed")


async def test_token_without_email(client: Client) -> None:
    claims = {"sub": "u", "iss": "streamexport", "aud": "streamexport-api", "exp": time.time() + 60}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    await assert_401(
        client, {"Authorization": f"Bearer {token}"}, "Token claim 'email' must be an email address"
    )


async def test_get_and_list_and_delete_need_a_token_too(client: Client) -> None:
    some_id = "7f1c1a36-5d0e-4c55-9b9e-0a4c7f3b2d10"
    for method, path in (
        ("GET", EXPORTS),
        ("GET", f"{EXPORTS}/{some_id}"),
        ("DELETE", f"{EXPORTS}/{some_id}"),
    ):
        response = await client.request(method, path)
        assert response.status == 401, (method, path)


def test_rs256_tokens_are_verified_with_the_public_key() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings = Settings(
        database_url="postgresql://unused",
        s3_bucket="unused",
        jwt_algorithm="RS256",
        jwt_public_key=public_pem.decode(),
    )
    claims = {
        "sub": "u1",
        "email": "u1@example.com",
        "roles": ["SUPER_ADMIN"],
        "iss": "streamexport",
        "aud": "streamexport-api",
        "exp": time.time() + 60,
    }
    user = Authenticator(settings).authenticate(
        f"Bearer {jwt.encode(claims, private, algorithm='RS256')}"
    )
    assert (user.id, user.email, user.is_super_admin) == ("u1", "u1@example.com", True)


def test_rs256_refuses_hs256_tokens() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings = Settings(
        database_url="postgresql://unused",
        s3_bucket="unused",
        jwt_algorithm="RS256",
        jwt_public_key=public_pem,
    )
    forged = jwt.encode({"sub": "u"}, "x" * 64, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        Authenticator(settings).authenticate(f"Bearer {forged}")
