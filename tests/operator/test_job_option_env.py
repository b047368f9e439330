"""The request's options reach the exporter: the operator copies them from the spec into the
Job's environment, and the exporter's own settings parser reads back what was asked for."""

from __future__ import annotations

from exporter.cli import parse_settings
from streamexport_core.contract import JobEnv
from streamexport_operator.job_options import option_env

REQUIRED = {
    JobEnv.DATABASE_URL: "postgresql://db/x",
    JobEnv.RESOURCE_TYPE: "TRANSACTIONS",
    JobEnv.BUCKET: "b",
}


def exporter_sees(spec: dict[str, object]) -> dict[str, object]:
    env = {k: v for k, v in option_env(spec).items() if v is not None}
    settings = parse_settings([], {**REQUIRED, JobEnv.FORMAT: str(spec["format"]), **env})
    return {
        "columns": settings.columns,
        "gzip": settings.gzip,
        "bom": settings.bom,
        "time_zone": settings.time_zone,
    }


def test_every_option_is_copied() -> None:
    spec = {
        "format": "csv",
        "columns": ["amount", "id"],
        "compression": "gzip",
        "csvBom": True,
        "timeZone": "Asia/Tokyo",
    }
    assert exporter_sees(spec) == {
        "columns": ("amount", "id"),
        "gzip": True,
        "bom": True,
        "time_zone": "Asia/Tokyo",
    }


def test_a_spec_without_options_sets_nothing() -> None:
    assert set(option_env({"format": "csv"}).values()) == {None}
    assert exporter_sees({"format": "jsonl"}) == {
        "columns": None,
        "gzip": False,
        "bom": False,
        "time_zone": "UTC",
    }
