"""Container env resolved like the kubelet: values, Secret and ConfigMap keys, fieldRefs."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from devstack.jobrunner.podenv import EnvError, expand, references, resolve_env

POD: dict[str, Any] = {
    "metadata": {"name": "job-abcde", "namespace": "team-a", "labels": {"job-name": "job"}}
}
SECRET = {"data": {"DATABASE_URL": base64.b64encode(b"postgresql://x").decode()}}
CONFIG = {"data": {"catalog": "/etc/catalog.yaml"}}


def _container(*env: dict[str, Any]) -> dict[str, Any]:
    return {"name": "exporter", "env": list(env)}


def test_values_secrets_configmaps_and_fields() -> None:
    container = _container(
        {"name": "A", "value": "1"},
        {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "DATABASE_URL"}}},
        {"name": "CAT", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "catalog"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "JOB", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['job-name']"}}},
        {"name": "B", "value": "$(A)-x"},
    )
    objects = {("secret", "db"): SECRET, ("configmap", "cfg"): CONFIG}
    assert references(container) == {("secret", "db"), ("configmap", "cfg")}
    assert resolve_env(container, POD, objects) == {
        "A": "1",
        "DB": "postgresql://x",
        "CAT": "/etc/catalog.yaml",
        "NS": "team-a",
        "JOB": "job",
        "B": "1-x",
    }


def test_optional_missing_keys_are_left_out() -> None:
    container = _container(
        {
            "name": "K",
            "valueFrom": {
                "secretKeyRef": {"name": "s3", "key": "AWS_ACCESS_KEY_ID", "optional": True}
            },
        }
    )
    assert resolve_env(container, POD, {("secret", "s3"): None}) == {}


def test_a_missing_required_secret_is_a_config_error() -> None:
    container = _container(
        {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}
    )
    with pytest.raises(EnvError, match="secret 'db' has no key 'url'"):
        resolve_env(container, POD, {("secret", "db"): None})


def test_references_expand_as_kubernetes_expands_them() -> None:
    env = {"A": "1"}
    assert expand("$(A)-$(B)-$$(A)-$$", env) == "1-$(B)-$(A)-$"
