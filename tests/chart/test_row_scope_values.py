"""The chart's default catalog scopes TRANSACTIONS by merchantId, and `api.adminUnscopedResources`
reaches the API as ADMIN_UNSCOPED_RESOURCES (empty by default: no admin lifts a scope)."""

from __future__ import annotations

import yaml
from chart_helpers import CHART_DIR, Rendered, container_env

from api.settings import Settings as ApiSettings
from streamexport_core.catalog import parse_catalog
from streamexport_core.scope import ScopeBinding

SECRET = "s" * 48


def _admin_unscoped(rendered: Rendered) -> frozenset[str]:
    container = rendered.one("Deployment", "api")["spec"]["template"]["spec"]["containers"][0]
    plain = {k: v for k, v in container_env(container).items() if isinstance(v, str)}
    env = {
        "DATABASE_URL": "postgresql://x",
        "S3_BUCKET": "b",
        **plain,
        "JWT_ALGORITHM": "HS256",  # the key is not what is under test here
        "JWT_SECRET": SECRET,
    }
    return ApiSettings.from_env(env).admin_unscoped_resources


def test_no_admin_lifts_a_scope_by_default(defaults: Rendered) -> None:
    assert _admin_unscoped(defaults) == frozenset()


def test_the_listed_resources_reach_the_api(all_on: Rendered) -> None:
    assert _admin_unscoped(all_on) == {"TRANSACTIONS"}


def test_the_default_catalog_binds_transactions_to_merchant_id() -> None:
    document = yaml.safe_load((CHART_DIR / "files" / "catalog.yaml").read_text())
    catalog = parse_catalog(document)
    assert catalog.get("TRANSACTIONS").scope == ScopeBinding("merchant_id", "merchantId", "integer")
    assert catalog.open_resources == []
