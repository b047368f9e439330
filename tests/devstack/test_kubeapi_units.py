"""Pure building blocks of the stand-in: JSON patch, merges, selectors, ages."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from devstack.kubeapi.patching import (
    PatchError,
    PatchFormatError,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)
from devstack.kubeapi.selectors import parse_label_selector
from devstack.kubeapi.tables import human_age, json_path


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        ([{"op": "add", "path": "/a/1", "value": 9}], {"a": [1, 9, 2], "b": {"c": True}}),
        ([{"op": "remove", "path": "/a/0"}], {"a": [2], "b": {"c": True}}),
        ([{"op": "move", "from": "/b/c", "path": "/d"}], {"a": [1, 2], "b": {}, "d": True}),
        (
            [{"op": "copy", "from": "/a", "path": "/b/a"}],
            {"a": [1, 2], "b": {"c": True, "a": [1, 2]}},
        ),
        ([{"op": "replace", "path": "", "value": {}}], {}),
        ([{"op": "test", "path": "/a", "value": [1, 2.0]}], {"a": [1, 2], "b": {"c": True}}),
    ],
)
def test_json_patch_operations(ops: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert json_patch({"a": [1, 2], "b": {"c": True}}, ops) == expected


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "test", "path": "/b/c", "value": 1}],  # JSON true is not 1
        [{"op": "remove", "path": "/missing"}],
        [{"op": "replace", "path": "/a/5", "value": 0}],
        [{"op": "move", "from": "/b", "path": "/b/c/d"}],
    ],
)
def test_json_patch_that_cannot_apply_raises_patch_error(ops: list[dict[str, Any]]) -> None:
    with pytest.raises(PatchError):
        json_patch({"a": [1, 2], "b": {"c": True}}, ops)


def test_json_patch_unknown_operation_is_a_format_error() -> None:
    with pytest.raises(PatchFormatError):
        json_patch({}, [{"op": "frobnicate", "path": "/a"}])


def test_merge_patch_replaces_lists_whole() -> None:
    assert merge_patch({"l": [1, 2], "k": {"x": 1}}, {"l": [3], "k": {"y": 2}}) == {
        "l": [3],
        "k": {"x": 1, "y": 2},
    }


def test_strategic_merge_deletes_keyed_items_and_unions_finalizers() -> None:
    current = {"containers": [{"name": "a", "image": "1"}, {"name": "b"}], "finalizers": ["x"]}
    patch = {
        "containers": [{"name": "b", "$patch": "delete"}],
        "finalizers": ["y"],
        "$retainKeys": [],
    }
    assert strategic_merge_patch(current, patch) == {
        "containers": [{"name": "a", "image": "1"}],
        "finalizers": ["x", "y"],
    }


def test_numeric_label_selectors() -> None:
    selector = parse_label_selector("retries>2,retries<5")
    assert [selector.matches({"metadata": {"labels": {"retries": v}}}) for v in "147"] == [
        False,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (5, "5s"),
        (119, "119s"),
        (200, "3m20s"),
        (3600, "60m"),
        (5 * 3600 + 180, "5h3m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (400 * 86400, "400d"),
    ],
)
def test_human_age_matches_kubernetes(seconds: int, expected: str) -> None:
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    assert human_age(now - datetime.timedelta(seconds=seconds), now) == expected


def test_json_path_supports_indexes_and_braces() -> None:
    obj = {"status": {"conditions": [{"type": "Complete"}]}}
    assert json_path(obj, "{.status.conditions[0].type}") == "Complete"
    assert json_path(obj, ".status.missing.deeper") is None
