"""Which objects an export Job's pod needs in its namespace, from the settings alone."""

from __future__ import annotations

import dataclasses

from streamexport_operator.prerequisites import (
    Prerequisite,
    missing,
    needs_check,
    not_prepared_message,
    required,
)
from streamexport_operator.settings import Settings

BASE = {"EXPORTER_IMAGE": "exporter:1", "S3_BUCKET": "exports"}


def test_only_an_operator_watching_more_than_one_namespace_checks() -> None:
    settings = Settings.from_env({**BASE, "OPERATOR_NAMESPACES": "exports"})
    assert not needs_check(settings)
    assert needs_check(dataclasses.replace(settings, namespaces=("*",)))
    assert needs_check(dataclasses.replace(settings, namespaces=("exports", "team-a")))


def test_the_s3_secret_is_required_only_when_named() -> None:
    named = Settings.from_env({**BASE, "EXPORTER_S3_SECRET": "keys"})
    cloud_identity = Settings.from_env(BASE)  # the chart leaves it unset with s3.existingSecret ""
    assert Prerequisite("Secret", "keys") in required(named)
    assert [p.kind for p in required(cloud_identity)] == ["ServiceAccount", "Secret"]


def test_the_catalog_configmap_and_its_key_are_required_when_mounted() -> None:
    settings = Settings.from_env(
        {**BASE, "EXPORTER_CATALOG_CONFIGMAP": "cat", "EXPORTER_CATALOG_KEY": "c.yaml"}
    )
    assert required(settings)[-1] == Prerequisite("ConfigMap", "cat", "c.yaml")


def test_missing_names_absent_objects_and_absent_keys() -> None:
    account = Prerequisite("ServiceAccount", "exporter")
    database = Prerequisite("Secret", "db", "DATABASE_URL")
    catalog = Prerequisite("ConfigMap", "cat", "catalog.yaml")
    found = {
        account: {"metadata": {"name": "exporter"}},
        database: {"data": {"URL": "eA=="}},
        catalog: None,
    }
    absent = missing(found)
    assert absent == ["Secret db (key DATABASE_URL)", "ConfigMap cat (key catalog.yaml)"]
    assert not_prepared_message("team-a", absent).startswith(
        "Namespace team-a is not prepared for export Jobs: missing Secret db (key DATABASE_URL),"
        " ConfigMap cat (key catalog.yaml)."
    )


def test_a_key_in_binary_data_counts() -> None:
    catalog = Prerequisite("ConfigMap", "cat", "catalog.yaml")
    assert missing({catalog: {"binaryData": {"catalog.yaml": "eA=="}}}) == []
