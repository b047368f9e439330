"""Whose rows a request may read: the catalog's scope binding resolved from the caller's token.

Pure: the verified claims in, a scoped catalog entry (or `Forbidden`) out. The result is
recorded in the Export's spec; the operator and the exporter use only that record.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from api.auth import User
from api.errors import Forbidden
from streamexport_core.catalog import Resource
from streamexport_core.filters import scope_violations
from streamexport_core.scope import Scope, claim_values


def scoped_resource(resource: Resource, user: User, admin_unscoped: Collection[str]) -> Resource:
    """`resource` restricted to the rows `user`'s token grants; `Forbidden` names the claim.

    An open resource (no binding) is returned as it is. A SUPER_ADMIN reads every row only
    of the resources listed in ADMIN_UNSCOPED_RESOURCES; elsewhere an admin's token must
    carry the claim like anyone else's.
    """
    binding = resource.scope
    if binding is None:
        return resource
    if user.is_super_admin and resource.resource_type in admin_unscoped:
        return resource.with_scope(Scope(binding.column, binding.claim, unrestricted=True))
    if binding.claim not in user.claims:
        raise Forbidden(
            f"{resource.resource_type} is scoped by the token claim {binding.claim!r},"
            " which this token does not carry"
        )
    try:
        values = claim_values(binding, user.claims[binding.claim])
    except ValueError as exc:
        raise Forbidden(f"Token claim {binding.claim!r} {exc}") from None
    return resource.with_scope(Scope(binding.column, binding.claim, values))


def check_filters(resource: Resource, filters: Mapping[str, Any]) -> None:
    """A filter on the scoped column may narrow the scope, never name another tenant."""
    violations = scope_violations(resource, filters)
    if violations:
        raise Forbidden("; ".join(violations))
