"""PATCH bodies: JSON merge patch (RFC 7386), a naive strategic merge, JSON patch (RFC 6902).

Strategic merge patch is approximated: it is a merge patch, except that lists of objects
under well-known keys (`conditions` by `type`; `containers`, `env`, `volumes`... by `name`)
are merged item by item, `{"$patch": "delete"}` items are removed, and `finalizers` are
unioned. Other `$`-directives (`$setElementOrder`, `$retainKeys`) are dropped.
"""

from __future__ import annotations

import copy
from typing import Any

# Lists that kube-apiserver merges by a key under strategic merge patch (the common ones).
MERGE_KEYS = {
    "conditions": "type",
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "ownerReferences": "uid",
    "imagePullSecrets": "name",
}
UNION_LISTS = frozenset({"finalizers"})


class PatchError(ValueError):
    """The patch is well-formed but cannot apply (a failed `test`, a missing path): 422."""


class PatchFormatError(ValueError):
    """The patch body itself is malformed: 400."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """A merge patch that merges well-known lists by key (see the module docstring)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue  # directives such as $setElementOrder/$retainKeys: ordering hints only
        if value is None:
            result.pop(key, None)
        elif key in MERGE_KEYS and isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, MERGE_KEYS[key])
        elif key in UNION_LISTS and isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = result[key] + [item for item in value if item not in result[key]]
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    return result


def _merge_list(current: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            return copy.deepcopy(patch)  # not a keyed list after all: replace, like merge patch
        index = next(
            (
                i
                for i, old in enumerate(result)
                if isinstance(old, dict) and old.get(merge_key) == item[merge_key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


# --- RFC 6902 -------------------------------------------------------------------------------


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchFormatError(f"invalid JSON pointer: {path!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]


def _index(container: list[Any], token: str, *, for_insert: bool) -> int:
    if token == "-" and for_insert:  # noqa: S105 (a JSON pointer token, not a secret)
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):  # noqa: S105
        raise PatchError(f"invalid array index: {token!r}")
    index = int(token)
    if index > len(container) or (index == len(container) and not for_insert):
        raise PatchError(f"array index out of range: {index}")
    return index


def _parent(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, for_insert=False)]
        else:
            raise PatchError(f"path not found: /{'/'.join(tokens)}")
    return node


def _get(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, for_insert=False)]
    raise PatchError(f"path not found: /{'/'.join(tokens)}")


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, for_insert=True), value)
    else:
        raise PatchError(f"cannot add to a scalar at /{'/'.join(tokens)}")
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last, for_insert=False)]
    else:
        raise PatchError(f"path not found: /{'/'.join(tokens)}")
    return doc


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: unlike Python's ==, `true` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b  # JSON has one number type: 1 equals 1.0
    return type(a) is type(b) and bool(a == b)


def json_patch(doc: Any, ops: Any) -> Any:
    """Apply RFC 6902 operations to a copy of `doc`; all or nothing."""
    if not isinstance(ops, list):
        raise PatchFormatError(
            "a JSON patch must be an array of operations"
            " (for an object body, use Content-Type application/merge-patch+json)"
        )
    result = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("op"), str):
            raise PatchFormatError(f"invalid JSON patch operation: {op!r}")
        name, tokens = op["op"], _pointer(op.get("path"))
        if name in ("add", "replace", "test") and "value" not in op:
            raise PatchFormatError(f"{name} operation needs a value: {op!r}")
        if name == "add":
            result = _add(result, tokens, copy.deepcopy(op["value"]))
        elif name == "remove":
            result = _remove(result, tokens)
        elif name == "replace":
            _get(result, tokens)  # the target must exist, unlike for "add"
            value = copy.deepcopy(op["value"])
            result = _add(_remove(result, tokens), tokens, value) if tokens else value
        elif name in ("move", "copy"):
            source = _pointer(op.get("from"))
            value = copy.deepcopy(_get(result, source))
            if name == "move":
                if tokens[: len(source)] == source and tokens != source:
                    raise PatchError("cannot move a value into one of its children")
                result = _remove(result, source)
            result = _add(result, tokens, value)
        elif name == "test":
            actual = _get(result, tokens) if _exists(result, tokens) else _MISSING
            if actual is _MISSING or not json_equal(actual, op["value"]):
                raise PatchError(
                    f"test operation failed at {op.get('path')}:"
                    f" expected {op['value']!r}, found {None if actual is _MISSING else actual!r}"
                )
        else:
            raise PatchFormatError(f"unknown JSON patch operation: {name!r}")
    return result


_MISSING = object()


def _exists(doc: Any, tokens: list[str]) -> bool:
    try:
        _get(doc, tokens)
    except PatchError:
        return False
    return True
