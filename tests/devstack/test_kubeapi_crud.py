"""Create/read/replace/list semantics, through the kubernetes Python client (sync)."""

from __future__ import annotations

import datetime
import json
from typing import Any

import kubernetes.client
import pytest
from kubeapi_support import configmap, export, job
from kubernetes.client.rest import ApiException

GROUP, VERSION, PLURAL = "streamexport.io", "v1", "exports"


def _custom(k8s: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(k8s)


def _status_of(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def test_create_fills_server_side_metadata(k8s: kubernetes.client.ApiClient) -> None:
    created = _custom(k8s).create_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, export()
    )
    meta = created["metadata"]
    assert meta["uid"] and meta["resourceVersion"].isdigit()
    assert meta["generation"] == 1
    stamp = datetime.datetime.fromisoformat(meta["creationTimestamp"].replace("Z", "+00:00"))
    assert abs((datetime.datetime.now(datetime.UTC) - stamp).total_seconds()) < 60


def test_custom_object_create_returns_the_object_with_201(k8s: kubernetes.client.ApiClient) -> None:
    _, status, _ = _custom(k8s).create_namespaced_custom_object_with_http_info(
        GROUP, VERSION, "default", PLURAL, export("e-201")
    )
    assert status == 201
    fetched = _custom(k8s).get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "e-201")
    assert fetched["spec"]["format"] == "csv"


def test_batch_client_create_job_returns_a_job(k8s: kubernetes.client.ApiClient) -> None:
    created = kubernetes.client.BatchV1Api(k8s).create_namespaced_job("default", job("j-1"))
    assert isinstance(created, kubernetes.client.V1Job)
    assert created.metadata.name == "j-1" and created.metadata.uid


def test_namespace_comes_from_the_url(k8s: kubernetes.client.ApiClient) -> None:
    created = _custom(k8s).create_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, export()
    )
    assert created["metadata"]["namespace"] == "default"


def test_namespace_mismatch_between_body_and_url_is_400(k8s: kubernetes.client.ApiClient) -> None:
    body = export()
    body["metadata"]["namespace"] = "elsewhere"
    with pytest.raises(ApiException) as caught:
        _custom(k8s).create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
    assert caught.value.status == 400
    assert _status_of(caught.value)["reason"] == "BadRequest"


def test_create_in_a_missing_namespace_is_404(k8s: kubernetes.client.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        _custom(k8s).create_namespaced_custom_object(GROUP, VERSION, "nowhere", PLURAL, export())
    assert caught.value.status == 404


def test_duplicate_create_is_409_already_exists(k8s: kubernetes.client.ApiClient) -> None:
    _custom(k8s).create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, export())
    with pytest.raises(ApiException) as caught:
        _custom(k8s).create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, export())
    status = _status_of(caught.value)
    assert caught.value.status == 409
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "AlreadyExists", 409)


def test_missing_object_is_404_not_found_status(k8s: kubernetes.client.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        _custom(k8s).get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "absent")
    status = _status_of(caught.value)
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "NotFound", 404)


def test_resource_version_is_a_global_increasing_counter(k8s: kubernetes.client.ApiClient) -> None:
    core = kubernetes.client.CoreV1Api(k8s)
    first = _custom(k8s).create_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, export()
    )
    second = core.create_namespaced_config_map("default", configmap("cm-1"))
    assert int(second.metadata.resource_version) > int(first["metadata"]["resourceVersion"])


def test_generate_name_gets_a_random_suffix(k8s: kubernetes.client.ApiClient) -> None:
    core = kubernetes.client.CoreV1Api(k8s)
    created = core.create_namespaced_config_map("default", {"metadata": {"generateName": "cm-"}})
    assert created.metadata.name.startswith("cm-") and len(created.metadata.name) == 8


def test_put_replaces_the_object(k8s: kubernetes.client.ApiClient) -> None:
    core = kubernetes.client.CoreV1Api(k8s)
    created = core.create_namespaced_config_map("default", configmap("cm-put"))
    created.data = {"replaced": "yes"}
    replaced = core.replace_namespaced_config_map("cm-put", "default", created)
    assert replaced.data == {"replaced": "yes"}
    assert replaced.metadata.uid == created.metadata.uid
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)


def test_put_with_a_stale_resource_version_is_409_conflict(
    k8s: kubernetes.client.ApiClient,
) -> None:
    core = kubernetes.client.CoreV1Api(k8s)
    stale = core.create_namespaced_config_map("default", configmap("cm-stale"))
    core.patch_namespaced_config_map("cm-stale", "default", {"data": {"k": "changed"}})
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("cm-stale", "default", stale)
    assert caught.value.status == 409
    assert _status_of(caught.value)["reason"] == "Conflict"


def test_list_carries_kind_api_version_and_resource_version(
    k8s: kubernetes.client.ApiClient,
) -> None:
    _custom(k8s).create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, export())
    listed = _custom(k8s).list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    assert (listed["kind"], listed["apiVersion"]) == ("ExportList", "streamexport.io/v1")
    assert listed["metadata"]["resourceVersion"].isdigit()
    assert [item["metadata"]["name"] for item in listed["items"]] == ["e-1"]


def test_list_across_all_namespaces(k8s: kubernetes.client.ApiClient) -> None:
    core = kubernetes.client.CoreV1Api(k8s)
    core.create_namespace({"metadata": {"name": "team-b"}})
    core.create_namespaced_config_map("default", configmap("cm-a"))
    core.create_namespaced_config_map("team-b", configmap("cm-b"))
    listed = core.list_config_map_for_all_namespaces()
    found = {(i.metadata.namespace, i.metadata.name) for i in listed.items}
    assert found == {("default", "cm-a"), ("team-b", "cm-b")}


def test_list_pages_with_limit_and_continue(k8s: kubernetes.client.ApiClient) -> None:
    core = kubernetes.client.CoreV1Api(k8s)
    for index in range(5):
        core.create_namespaced_config_map("default", configmap(f"cm-{index}"))
    names, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map("default", limit=2, _continue=token)
        names += [item.metadata.name for item in page.items]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"cm-{i}" for i in range(5)] and pages == 3


def test_builtin_delete_answers_with_a_success_status(k8s: kubernetes.client.ApiClient) -> None:
    core = kubernetes.client.CoreV1Api(k8s)
    core.create_namespaced_config_map("default", configmap("cm-del"))
    status = core.delete_namespaced_config_map("cm-del", "default")
    assert status.status == "Success" and status.details.name == "cm-del"
