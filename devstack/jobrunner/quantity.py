"""Kubernetes resource quantities ("512Mi", "1.5Gi", "500M") as numbers of bytes."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIXES = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
_QUANTITY = re.compile(r"^([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T|)$")


def parse_quantity(text: str | int) -> int:
    """Bytes for a memory quantity; ValueError for anything else."""
    if isinstance(text, int):
        return text
    match = _QUANTITY.match(text.strip())
    if not match:
        raise ValueError(f"not a memory quantity: {text!r}")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        raise ValueError(f"not a memory quantity: {text!r}") from None
    return int(number * _SUFFIXES[match.group(2)])
