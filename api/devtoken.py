"""Mint a development token for the API: `python -m api.devtoken --sub U --email E`.

`--merchant-id 7` (repeat for a list) or `--claim name=value` (a JSON value, else a
string) adds the claims that the catalog's row scopes read, e.g. `merchantId`.

Signs an HS256 JWT with `JWT_SECRET` (and `JWT_ISSUER` / `JWT_AUDIENCE` when set, else the
API's defaults) and prints it, for `curl -H "Authorization: Bearer $(python -m api.devtoken ...)"`.
Production tokens come from the identity provider, never from this command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jwt

from api.settings import MIN_SECRET_BYTES

DEFAULT_TTL_SECONDS = 3600


def mint_token(
    secret: str,
    *,
    sub: str,
    email: str,
    roles: Sequence[str] = (),
    ttl: int = DEFAULT_TTL_SECONDS,
    issuer: str = "streamexport",
    audience: str = "streamexport-api",
    now: float | None = None,
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """An HS256 token with the claims the API reads (`sub`, `email`, `roles`), plus
    `extra_claims` (e.g. `{"merchantId": 7}` for a scoped resource)."""
    issued = int(time.time() if now is None else now)
    claims = {
        **(extra_claims or {}),
        "sub": sub,
        "email": email,
        "roles": list(roles),
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.devtoken",
        description=(
            "Print a development JWT for the streamexport API, signed with HS256 and the"
            " secret in $JWT_SECRET (issuer $JWT_ISSUER, default 'streamexport'; audience"
            " $JWT_AUDIENCE, default 'streamexport-api')."
        ),
    )
    parser.add_argument("--sub", required=True, help="user id (the token's 'sub' claim)")
    parser.add_argument("--email", required=True, help="the user's email address")
    parser.add_argument(
        "--role",
        action="append",
        default=[],
        help="a role, e.g. SUPER_ADMIN (sees every export); repeat for several",
    )
    parser.add_argument(
        "--merchant-id",
        action="append",
        type=int,
        default=[],
        help="a merchant id for the 'merchantId' claim (TRANSACTIONS' row scope in the"
        " packaged catalog); repeat for a list",
    )
    parser.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other claim, e.g. tenant=acme or merchantId=[1,2] (VALUE is JSON if it"
        " parses, else a string); repeat for several",
    )
    parser.add_argument(
        "--ttl",
        type=int,
        default=DEFAULT_TTL_SECONDS,
        help=f"lifetime in seconds ({DEFAULT_TTL_SECONDS})",
    )
    args = parser.parse_args(argv)
    extra = _claims(parser, args.claim)
    if args.merchant_id:
        ids = args.merchant_id
        extra["merchantId"] = ids[0] if len(ids) == 1 else ids
    secret = os.environ.get("JWT_SECRET", "")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        print(f"JWT_SECRET must be set to at least {MIN_SECRET_BYTES} bytes", file=sys.stderr)
        return 2
    if args.ttl < 1:
        parser.error("--ttl must be positive")
    print(
        mint_token(
            secret,
            sub=args.sub,
            email=args.email,
            roles=args.role,
            ttl=args.ttl,
            issuer=os.environ.get("JWT_ISSUER") or "streamexport",
            audience=os.environ.get("JWT_AUDIENCE") or "streamexport-api",
            extra_claims=extra,
        )
    )
    return 0


# Set from the options above, or by the token's verification: --claim may not override them.
_RESERVED = frozenset({"sub", "email", "roles", "iss", "aud", "iat", "exp", "nbf", "jti"})


def _claims(parser: argparse.ArgumentParser, items: Sequence[str]) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            parser.error(f"--claim {item!r} must be NAME=VALUE")
        if name in _RESERVED:
            parser.error(f"--claim cannot set {name!r}; use its own option")
        try:
            claims[name] = json.loads(text)
        except json.JSONDecodeError:
            claims[name] = text
    return claims


if __name__ == "__main__":
    sys.exit(main())
