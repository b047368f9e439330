"""The chart ships exact copies of the project's single sources: the Export CRD (crds/) and
the default resource catalog (core/streamexport_core/catalog.yaml). Helm cannot read
outside the chart and a symlink does not survive `helm package`, so the copies are checked here."""

from __future__ import annotations

from pathlib import Path

import helm_python
import yaml
from chart_helpers import CHART_DIR, ROOT, Rendered

PROJECT_CRDS = ROOT / "crds"
CATALOG = ROOT / "core" / "streamexport_core" / "catalog.yaml"


def test_every_project_crd_has_an_identical_copy_in_the_chart() -> None:
    sources = sorted(PROJECT_CRDS.glob("*.yaml"))
    assert sources, "crds/ holds the Export CRD"
    for source in sources:
        copy = CHART_DIR / "crds" / source.name
        assert copy.is_file(), f"charts/streamexport/crds/{source.name} is missing"
        assert copy.read_bytes() == source.read_bytes(), (
            f"charts/streamexport/crds/{source.name} differs from crds/{source.name}: "
            f"cp crds/{source.name} charts/streamexport/crds/"
        )


def test_chart_crds_are_the_project_crds_plus_kopf_peering(chart: helm_python.Chart) -> None:
    shipped = {crd["name"].removeprefix("crds/") for crd in chart.crds}
    assert shipped == {p.name for p in PROJECT_CRDS.glob("*.yaml")} | {"kopf-peering.yaml"}


def test_catalog_copy_is_identical() -> None:
    copy = CHART_DIR / "files" / "catalog.yaml"
    assert copy.read_bytes() == CATALOG.read_bytes(), (
        "charts/streamexport/files/catalog.yaml differs from core/streamexport_core/catalog.yaml: "
        "cp core/streamexport_core/catalog.yaml charts/streamexport/files/"
    )


def test_default_catalog_config_map_holds_the_project_catalog(defaults: Rendered) -> None:
    config_map = defaults.one("ConfigMap", "catalog")
    assert yaml.safe_load(config_map["data"]["catalog.yaml"]) == yaml.safe_load(
        CATALOG.read_text(encoding="utf-8")
    )


def test_catalog_from_values_replaces_the_default(all_on: Rendered) -> None:
    config_map = all_on.one("ConfigMap", "catalog")
    expected = yaml.safe_load(all_on.values["catalog"]["content"])
    assert yaml.safe_load(config_map["data"]["catalog.yaml"]) == expected


def test_packaged_chart_carries_the_crds_and_the_catalog(tmp_path: Path) -> None:
    archive = helm_python.package(CHART_DIR, destination=tmp_path)
    with helm_python.Chart.load(archive) as packaged:
        assert {crd["name"] for crd in packaged.crds} == {
            "crds/exports.streamexport.io.yaml",
            "crds/kopf-peering.yaml",
        }
        files = {f["name"]: f["data"] for f in packaged.files}
        assert "files/catalog.yaml" in files
