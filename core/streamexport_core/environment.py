"""Typed reading of settings from environment variables, shared by the API and the operator.

Every error names its variable, so a pod that cannot start says exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from streamexport_core.errors import SettingsError

__all__ = ["SERVICE_ACCOUNT_DIR", "EnvReader", "SettingsError", "pod_namespace"]

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")

_N = TypeVar("_N", int, float)


def pod_namespace() -> str:
    """The namespace of the pod this runs in (its service-account mount), else `default`."""
    try:
        return (SERVICE_ACCOUNT_DIR / "namespace").read_text(encoding="utf-8").strip() or "default"
    except OSError:
        return "default"


class EnvReader:
    """Typed access to environment variables; blank counts as unset."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def optional(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def required(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            raise SettingsError(f"{name} is required but not set")
        return value

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def integer(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
        return _bounded(name, value, minimum, maximum)

    def optional_integer(self, name: str) -> int | None:
        if self.optional(name) is None:
            return None
        return self.integer(name, 0)

    def number(self, name: str, default: float, *, minimum: float | None = None) -> float:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise SettingsError(f"{name} must be a finite number, got {raw!r}")
        return _bounded(name, value, minimum, None)

    def choice(
        self, name: str, default: str, allowed: tuple[str, ...], *, upper: bool = False
    ) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        value = raw.upper() if upper else raw
        if value not in allowed:
            raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
        return value


def _bounded(name: str, value: _N, minimum: _N | None, maximum: _N | None) -> _N:
    """`value` if within the bounds given, else a `SettingsError` that states them."""
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum} and {maximum}, got {value}")
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum}, got {value}")
    return value
