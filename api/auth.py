"""Bearer-token authentication: a JWT verified with PyJWT gives the caller's id, email, roles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from api.errors import Unauthenticated
from api.settings import Settings, SettingsError

SUPER_ADMIN = "SUPER_ADMIN"
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]


@dataclass(frozen=True)
class User:
    id: str
    email: str
    roles: frozenset[str]
    # Every verified claim, for row-level scope bindings (api.scoping); not compared.
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_super_admin(self) -> bool:
        return SUPER_ADMIN in self.roles


class Authenticator:
    """Verifies tokens with one algorithm and key, made once from the settings."""

    def __init__(self, settings: Settings) -> None:
        self._algorithm = settings.jwt_algorithm
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._key: Any
        if settings.jwt_algorithm == "RS256":
            assert settings.jwt_public_key is not None
            try:
                self._key = serialization.load_pem_public_key(settings.jwt_public_key.encode())
            except ValueError:
                raise SettingsError("JWT_PUBLIC_KEY is not a PEM public key") from None
        else:
            self._key = settings.jwt_secret

    def authenticate(self, authorization: str | None) -> User:
        """The user named by an `Authorization: Bearer <JWT>` header, or `Unauthenticated`."""
        if not authorization:
            raise Unauthenticated("Missing bearer token", token_given=False)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(
                "Authorization header must be 'Bearer <token>'", token_given=False
            )
        claims = self._decode(token.strip())
        return _user_from_claims(claims)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            message = "Token has expired"
        except jwt.InvalidAudienceError:
            message = "Token audience is invalid"
        except jwt.InvalidIssuerError:
            message = "Token issuer is invalid"
        except jwt.InvalidSignatureError:
            message = "Token signature is invalid"
        except jwt.MissingRequiredClaimError as exc:
            message = f"Token lacks the {exc.claim!r} claim"
        except jwt.ImmatureSignatureError:
            message = "Token is not yet valid"
        except jwt.InvalidTokenError:
            message = "Token is malformed"
        raise Unauthenticated(message, token_given=True)


def _user_from_claims(claims: dict[str, Any]) -> User:
    sub, email, roles = claims.get("sub"), claims.get("email"), claims.get("roles", [])
    if not isinstance(sub, str) or not 1 <= len(sub) <= 253:
        raise Unauthenticated("Token claim 'sub' must be a non-empty string", token_given=True)
    # The length limits are those of spec.requestedBy in the Export CRD.
    if not isinstance(email, str) or not 3 <= len(email) <= 320 or "@" not in email:
        raise Unauthenticated("Token claim 'email' must be an email address", token_given=True)
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise Unauthenticated("Token claim 'roles' must be a list of strings", token_given=True)
    return User(id=sub, email=email, roles=frozenset(roles), claims=claims)
