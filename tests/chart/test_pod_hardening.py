"""Every pod the chart runs, and the export Job's pod as far as the chart configures it, is
hardened: non-root, read-only root filesystem, no privilege escalation, no capabilities,
seccomp RuntimeDefault, resources set, and a size-limited writable /tmp."""

from __future__ import annotations

import re
from typing import Any

from chart_helpers import Obj, Rendered, container_env, pod_templates

TMP = "/tmp"  # noqa: S108 - the mount path under test, not a file this test writes
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")


def effective(pod: Obj, container: Obj, key: str) -> Any:
    """A securityContext field as Kubernetes resolves it: the container's, else the pod's."""
    return container.get("securityContext", {}).get(key, pod.get("securityContext", {}).get(key))


def test_the_chart_runs_api_and_operator_pods(rendered: Rendered) -> None:
    names = {label for label, _ in pod_templates(rendered.objects)}
    assert len(names) == 2
    assert {"api", "operator"} == {
        obj["metadata"]["labels"]["app.kubernetes.io/component"]
        for obj in rendered.of_kind("Deployment")
    }


def test_containers_run_as_non_root_with_a_numeric_user(rendered: Rendered) -> None:
    for label, pod in pod_templates(rendered.objects):
        for container in pod["containers"] + pod.get("initContainers", []):
            assert effective(pod, container, "runAsNonRoot") is True, label
            user = effective(pod, container, "runAsUser")
            assert isinstance(user, int) and user > 0, label


def test_containers_cannot_escalate_or_write_their_image(rendered: Rendered) -> None:
    for label, pod in pod_templates(rendered.objects):
        for container in pod["containers"] + pod.get("initContainers", []):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, label
            assert context["readOnlyRootFilesystem"] is True, label
            assert context["capabilities"]["drop"] == ["ALL"], label
            assert "add" not in context["capabilities"], label
            assert context.get("privileged", False) is False, label


def test_seccomp_is_runtime_default(rendered: Rendered) -> None:
    for label, pod in pod_templates(rendered.objects):
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, label
        for container in pod["containers"]:
            assert effective(pod, container, "seccompProfile") == {"type": "RuntimeDefault"}


def test_containers_have_requests_and_a_memory_limit(rendered: Rendered) -> None:
    for label, pod in pod_templates(rendered.objects):
        for container in pod["containers"]:
            resources = container["resources"]
            assert QUANTITY.match(str(resources["requests"]["cpu"])), label
            assert QUANTITY.match(str(resources["requests"]["memory"])), label
            assert QUANTITY.match(str(resources["limits"]["memory"])), label


def test_tmp_is_a_size_limited_empty_dir(rendered: Rendered) -> None:
    for label, pod in pod_templates(rendered.objects):
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        for container in pod["containers"]:
            mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
            tmp = volumes[mounts[TMP]["name"]]
            assert QUANTITY.match(tmp["emptyDir"]["sizeLimit"]), label
            # Nothing else is writable: every other mount is read-only configuration.
            assert all(m.get("readOnly") for path, m in mounts.items() if path != TMP), label


def test_pods_do_not_share_host_namespaces(rendered: Rendered) -> None:
    for label, pod in pod_templates(rendered.objects):
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            assert pod.get(key, False) is False, label
        assert all("hostPath" not in volume for volume in pod["volumes"]), label


def test_export_job_pod_gets_resources_tmp_and_a_non_root_user(rendered: Rendered) -> None:
    """The operator builds the Job; the chart's part is the settings it builds it from."""
    operator = rendered.one("Deployment", "operator")
    env = container_env(operator["spec"]["template"]["spec"]["containers"][0])
    for name in ("JOB_MEMORY_LIMIT", "JOB_CPU_REQUEST", "JOB_CPU_LIMIT", "JOB_TMP_SIZE_LIMIT"):
        assert QUANTITY.match(env[name]), name
    assert int(env["EXPORTER_RUN_AS_USER"]) > 0
    assert int(env["JOB_ACTIVE_DEADLINE_SECONDS"]) > 0


def test_export_job_pod_runs_as_the_exporter_service_account(rendered: Rendered) -> None:
    operator = rendered.one("Deployment", "operator")
    env = container_env(operator["spec"]["template"]["spec"]["containers"][0])
    exporter_account = rendered.one("ServiceAccount", "exporter")
    assert env["EXPORTER_SERVICE_ACCOUNT"] == exporter_account["metadata"]["name"]
    # ... whose only permission is reporting progress on exports/status.
    bindings = [
        binding
        for binding in rendered.of_kind("RoleBinding", "ClusterRoleBinding")
        if any(s["name"] == exporter_account["metadata"]["name"] for s in binding["subjects"])
    ]
    assert len(bindings) == 1
    role = rendered.named(bindings[0]["roleRef"]["kind"], bindings[0]["roleRef"]["name"])
    assert role["rules"] == [
        {"apiGroups": ["streamexport.io"], "resources": ["exports/status"], "verbs": ["patch"]}
    ]
