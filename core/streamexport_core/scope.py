"""Row-level scope: whose rows a requester may export, bound to a claim of their token.

A catalog entry may bind a column to a JWT claim (`ScopeBinding`); the API resolves the
claim of each request into a `Scope` (the column, the claim and the allowed values), records
it in the Export's spec, and the exporter receives it from the Job. `streamexport_core.sql`
ANDs it into every query, so that a scoped resource is never read without it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from streamexport_core.errors import InvalidRequest

ScopeType = Literal["integer", "text"]
ScopeValue = int | str

# A claim name as identity providers issue them: a plain name (`merchantId`) or a
# namespaced one (`https://example.com/merchant_id`, `urn:acme:tenant`).
CLAIM_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/#-]{0,254}$")
# Registered claims (RFC 7519 section 4.1) that say nothing about whose data a row is.
UNBINDABLE_CLAIMS: Final = frozenset({"exp", "nbf", "iat", "iss", "aud", "jti"})
MAX_SCOPE_VALUES: Final = 1000  # a token listing more tenants than this is refused
MAX_TEXT_VALUE_LENGTH: Final = 253


class ScopeRequired(InvalidRequest):
    """A scoped resource asked to be read without a scope: refused, never "all rows"."""


@dataclass(frozen=True)
class ScopeBinding:
    """The catalog's `scope: {column, claim}`: rows belong to the claim's values."""

    column: str
    claim: str
    type: ScopeType


@dataclass(frozen=True)
class Scope:
    """A resolved scope: the rows whose `column` is one of `values`, or every row when
    `unrestricted` (an admin under the API's ADMIN_UNSCOPED_RESOURCES)."""

    column: str
    claim: str
    values: tuple[ScopeValue, ...] = ()
    unrestricted: bool = False

    def allows(self, value: Any) -> bool:
        return self.unrestricted or value in self.values

    def describe(self) -> str:
        """For logs: `merchant_id=7,9` or `merchant_id=*`."""
        values = "*" if self.unrestricted else ",".join(map(str, self.values))
        return f"{self.column}={values}"

    def to_json(self) -> dict[str, Any]:
        """The form of `spec.scope` and of the Job's EXPORT_SCOPE."""
        document: dict[str, Any] = {"column": self.column, "claim": self.claim}
        if self.unrestricted:
            document["unrestricted"] = True
        else:
            document["values"] = list(self.values)
        return document


def claim_values(binding: ScopeBinding, claim: Any) -> tuple[ScopeValue, ...]:
    """The values a claim grants (a scalar or a list); ValueError says what is wrong."""
    items = claim if isinstance(claim, list) else [claim]
    kind = "an integer" if binding.type == "integer" else "a string"
    if not items:
        raise ValueError(f"must name at least one value ({kind} or a list of them)")
    if len(items) > MAX_SCOPE_VALUES:
        raise ValueError(f"must list at most {MAX_SCOPE_VALUES} values")
    values: list[ScopeValue] = []
    for item in items:
        if binding.type == "integer":
            # JSON true/false are ints to Python; they are not tenant ids.
            if isinstance(item, bool) or not isinstance(item, int) or abs(item) >= 2**63:
                raise ValueError(f"must be {kind} or a list of them")
        elif not isinstance(item, str) or not item or len(item) > MAX_TEXT_VALUE_LENGTH:
            raise ValueError(f"must be {kind} (1-{MAX_TEXT_VALUE_LENGTH} characters) or a list")
        if item not in values:
            values.append(item)
    return tuple(values)


def scope_from_json(binding: ScopeBinding, document: Any) -> Scope:
    """A recorded scope (spec.scope / EXPORT_SCOPE) checked against the catalog's binding."""
    if not isinstance(document, Mapping):
        raise InvalidRequest(["scope must be a JSON object with column, claim and values"])
    unknown = set(document) - {"column", "claim", "values", "unrestricted"}
    if unknown:
        raise InvalidRequest([f"scope has unknown field(s) {', '.join(sorted(map(str, unknown)))}"])
    column, claim = document.get("column"), document.get("claim")
    if column != binding.column or claim != binding.claim:
        raise InvalidRequest(
            [
                f"scope binds {column!r} to claim {claim!r} but the catalog binds"
                f" {binding.column!r} to claim {binding.claim!r}"
            ]
        )
    unrestricted = document.get("unrestricted", False)
    if not isinstance(unrestricted, bool):
        raise InvalidRequest(["scope.unrestricted must be a boolean"])
    if unrestricted:
        if "values" in document:
            raise InvalidRequest(["scope.unrestricted and scope.values exclude each other"])
        return Scope(column=binding.column, claim=binding.claim, unrestricted=True)
    try:
        values = claim_values(binding, document.get("values"))
    except ValueError as exc:
        raise InvalidRequest([f"scope.values {exc}"]) from None
    return Scope(column=binding.column, claim=binding.claim, values=values)
