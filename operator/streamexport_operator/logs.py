"""Log lines that carry the export they are about, in kopf's formats (text prefix or JSON)."""

from __future__ import annotations

import logging
from typing import Any

from streamexport_core.contract import API_VERSION, KIND

_logger = logging.getLogger("streamexport.operator")


def export_logger(namespace: str, name: str) -> logging.LoggerAdapter[Any]:
    """A logger whose every line names the export (`[namespace/name]`, or JSON `object`).

    kopf's formatters read `k8s_ref`; `k8s_skip` keeps these lines out of Kubernetes Events
    (phase changes post their own Events).
    """
    ref = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "namespace": namespace,
        "name": name,
    }
    return logging.LoggerAdapter(_logger, {"k8s_ref": ref, "k8s_skip": True})
