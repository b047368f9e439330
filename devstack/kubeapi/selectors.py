"""Label and field selectors, parsed once per request and matched against stored objects."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
Predicate = Callable[[JSON], bool]

_KEY = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_VALUE = r"(?:(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_NOT_EXISTS = re.compile(rf"^!\s*({_KEY})$")
_EXISTS = re.compile(rf"^({_KEY})$")
_EQUALITY = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VALUE})$")
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^()]*)\)$")
_NUMERIC = re.compile(rf"^({_KEY})\s*([<>])\s*(-?\d+)$")
_FIELD = re.compile(r"^([A-Za-z0-9_.-]+)\s*(==|=|!=)\s*(.*)$")


@dataclass(frozen=True)
class Selector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Predicate, ...] = ()

    def matches(self, obj: JSON) -> bool:
        return all(requirement(obj) for requirement in self.requirements)


EVERYTHING = Selector()


def _split(text: str) -> list[str]:
    # Commas separate requirements, except inside the value sets of `in (a,b)`.
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [part for part in parts if part]


def _labels(obj: JSON) -> dict[str, str]:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels if isinstance(labels, dict) else {}


def _label_requirement(text: str) -> Predicate:
    if m := _NOT_EXISTS.match(text):
        key = m.group(1)
        return lambda obj: key not in _labels(obj)
    if m := _EXISTS.match(text):
        key = m.group(1)
        return lambda obj: key in _labels(obj)
    if m := _EQUALITY.match(text):
        key, op, value = m.groups()
        if op == "!=":
            return lambda obj: _labels(obj).get(key) != value
        return lambda obj: _labels(obj).get(key) == value
    if m := _SET.match(text):
        key, op, raw = m.groups()
        values = {v.strip() for v in raw.split(",")}
        if not all(re.fullmatch(_VALUE, v) for v in values):
            raise ValueError(f"invalid label value in {text!r}")
        if op == "in":
            return lambda obj: _labels(obj).get(key) in values
        return lambda obj: _labels(obj).get(key) not in values
    if m := _NUMERIC.match(text):
        key, op, number = m.group(1), m.group(2), int(m.group(3))
        return lambda obj: _compare_number(_labels(obj).get(key), op, number)
    raise ValueError(f"unable to parse requirement: {text!r}")


def _compare_number(value: str | None, op: str, number: int) -> bool:
    try:
        actual = int(value) if value is not None else None
    except ValueError:
        return False
    if actual is None:
        return False
    return actual > number if op == ">" else actual < number


def parse_label_selector(text: str | None) -> Selector:
    """Parse `a=b,c!=d,e in (f,g),!h,...`; ValueError on syntax errors."""
    if not text:
        return EVERYTHING
    return Selector(tuple(_label_requirement(part) for part in _split(text)))


def field_value(obj: JSON, path: str) -> str:
    """The string form of a dotted field, "" when absent (as the apiserver compares them)."""
    value: Any = obj
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field_requirement(text: str) -> Predicate:
    m = _FIELD.match(text)
    if not m:
        raise ValueError(f"invalid field selector: {text!r}")
    path, op, value = m.group(1), m.group(2), m.group(3).strip()
    if op == "!=":
        return lambda obj: field_value(obj, path) != value
    return lambda obj: field_value(obj, path) == value


def parse_field_selector(text: str | None) -> Selector:
    """Parse `metadata.name=x,involvedObject.name!=y`: any simple dotted path is accepted."""
    if not text:
        return EVERYTHING
    return Selector(tuple(_field_requirement(part) for part in _split(text)))
