"""Each component gets exactly the permissions it uses, with no wildcard anywhere; namespaced
by default, cluster-wide only for the operator (and the exporter's bindable rules) with
watchAllNamespaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chart_helpers import NAMESPACE, RELEASE, Obj, Rendered

Grants = set[tuple[str, str, str]]  # (apiGroup, resource, verb)

API_GRANTS: Grants = {
    ("streamexport.io", "exports", v) for v in ("create", "get", "list", "watch", "patch")
}
EXPORTER_GRANTS: Grants = {("streamexport.io", "exports/status", "patch")}
OPERATOR_GRANTS: Grants = (
    {("streamexport.io", "exports", v) for v in ("get", "list", "watch", "patch")}
    | {("streamexport.io", "exports/status", "patch")}
    | {("streamexport.io", "exports/finalizers", "update")}
    | {("batch", "jobs", v) for v in ("create", "get", "list", "watch", "delete")}
    | {("", "pods", v) for v in ("get", "list", "watch")}
    | {(group, "events", v) for group in ("", "events.k8s.io") for v in ("create", "patch")}
)
# Cluster-wide only: the operator checks a namespace's export prerequisites (prerequisites.py).
PREREQUISITE_GRANTS: Grants = {
    ("", kind, "get") for kind in ("serviceaccounts", "configmaps", "secrets")
}
RETENTION_GRANT = ("streamexport.io", "exports", "delete")
CLUSTER_OBSERVATION: Grants = {
    ("apiextensions.k8s.io", "customresourcedefinitions", "list"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "watch"),
    ("", "namespaces", "list"),
    ("", "namespaces", "watch"),
}


def grants(role: Obj) -> Grants:
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def roles_of(rendered: Rendered, component: str) -> list[Obj]:
    """The Roles/ClusterRoles bound to the component's ServiceAccount."""
    account = rendered.one("ServiceAccount", component)["metadata"]["name"]
    found = []
    for binding in rendered.of_kind("RoleBinding", "ClusterRoleBinding"):
        subjects = binding["subjects"]
        if any(s["kind"] == "ServiceAccount" and s["name"] == account for s in subjects):
            assert all(s["namespace"] == NAMESPACE for s in subjects)
            found.append(rendered.named(binding["roleRef"]["kind"], binding["roleRef"]["name"]))
    return found


def component_grants(rendered: Rendered, component: str) -> Grants:
    return set().union(*(grants(role) for role in roles_of(rendered, component)))


def test_no_wildcard_in_any_rule(rendered: Rendered) -> None:
    for role in rendered.of_kind("Role", "ClusterRole"):
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs"):
                assert all("*" not in item for item in rule[field]), (role["metadata"], rule)
            assert "nonResourceURLs" not in rule
            assert "resourceNames" not in rule or "*" not in rule["resourceNames"]


def test_no_rule_grants_rbac_or_escalation(rendered: Rendered) -> None:
    forbidden_verbs = {"escalate", "bind", "impersonate"}
    for role in rendered.of_kind("Role", "ClusterRole"):
        for _group, resource, verb in grants(role):
            assert resource not in ("roles", "rolebindings", "clusterroles"), role
            assert verb not in forbidden_verbs, role


def test_secrets_only_get_by_name_for_the_cluster_wide_operator(rendered: Rendered) -> None:
    """Checking a namespace's Secrets exist needs `get` on them: only the two the Jobs name."""
    operator = {role["metadata"]["name"] for role in roles_of(rendered, "operator")}
    names = {"streamexport-database", "streamexport-s3"} | {
        f"{RELEASE}-{key}" for key in ("database", "s3")
    }
    for role in rendered.of_kind("Role", "ClusterRole"):
        for rule in role["rules"]:
            if "secrets" not in rule["resources"]:
                continue
            assert role["kind"] == "ClusterRole" and role["metadata"]["name"] in operator, role
            assert rule["resources"] == ["secrets"] and rule["verbs"] == ["get"], rule
            assert rule["resourceNames"] and set(rule["resourceNames"]) <= names, rule
    if not rendered.values.get("watchAllNamespaces"):
        assert not component_grants(rendered, "operator") & PREREQUISITE_GRANTS


def test_prerequisite_rules_name_exactly_what_the_jobs_use(all_on: Rendered) -> None:
    role = roles_of(all_on, "operator")[0]
    by_resource = {
        rule["resources"][0]: rule["resourceNames"]
        for rule in role["rules"]
        if "resourceNames" in rule
    }
    exporter = all_on.one("ServiceAccount", "exporter")["metadata"]["name"]
    catalog = all_on.one("ConfigMap", "catalog")["metadata"]["name"]
    # all-on creates both Secrets from values: "<release>-database", "<release>-s3".
    assert by_resource == {
        "serviceaccounts": [exporter],
        "configmaps": [catalog],
        "secrets": [f"{RELEASE}-database", f"{RELEASE}-s3"],
    }


def test_api_may_only_create_get_list_and_patch_exports(rendered: Rendered) -> None:
    assert component_grants(rendered, "api") == API_GRANTS
    # Even cluster-wide, the API creates Exports only in its own namespace.
    assert {role["kind"] for role in roles_of(rendered, "api")} == {"Role"}


def test_exporter_may_only_patch_export_status(rendered: Rendered) -> None:
    assert component_grants(rendered, "exporter") == EXPORTER_GRANTS


def test_default_operator_rules_are_namespaced_and_exact(defaults: Rendered) -> None:
    assert defaults.of_kind("ClusterRole", "ClusterRoleBinding") == []
    assert component_grants(defaults, "operator") == OPERATOR_GRANTS | {RETENTION_GRANT}


def test_cluster_wide_operator_gets_cluster_roles_and_observation(all_on: Rendered) -> None:
    roles = roles_of(all_on, "operator")
    assert {role["kind"] for role in roles} == {"ClusterRole"}
    peering = {("kopf.dev", "clusterkopfpeerings", v) for v in ("get", "list", "watch", "patch")}
    # all-on keeps exports forever (retentionDays 0), so the operator never deletes one.
    assert (
        component_grants(all_on, "operator")
        == OPERATOR_GRANTS | CLUSTER_OBSERVATION | peering | PREREQUISITE_GRANTS
    )
    binding = all_on.one("ClusterRoleBinding", "operator")
    assert binding["roleRef"]["name"] == roles[0]["metadata"]["name"]


def test_namespaces_are_observed_only_cluster_wide(
    render: Callable[[dict[str, Any]], list[Obj]],
) -> None:
    values = {"operator": {"peering": {"enabled": True}}}
    namespaced = Rendered("peering", values, render(values))
    operator = component_grants(namespaced, "operator")
    assert not operator & CLUSTER_OBSERVATION
    assert {("kopf.dev", "kopfpeerings", v) for v in ("get", "list", "watch", "patch")} <= operator
    assert namespaced.of_kind("ClusterRole", "ClusterRoleBinding") == []


def test_bindings_name_rendered_roles_and_accounts(rendered: Rendered) -> None:
    accounts = {obj["metadata"]["name"] for obj in rendered.of_kind("ServiceAccount")}
    for binding in rendered.of_kind("RoleBinding", "ClusterRoleBinding"):
        rendered.named(binding["roleRef"]["kind"], binding["roleRef"]["name"])
        assert {s["name"] for s in binding["subjects"]} <= accounts


def test_each_component_has_its_own_service_account(rendered: Rendered) -> None:
    names = {
        rendered.one("ServiceAccount", c)["metadata"]["name"]
        for c in ("api", "operator", "exporter")
    }
    assert len(names) == 3
    for component in ("api", "operator"):
        pod = rendered.one("Deployment", component)["spec"]["template"]["spec"]
        assert (
            pod["serviceAccountName"]
            == rendered.one("ServiceAccount", component)["metadata"]["name"]
        )
