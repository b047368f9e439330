"""kopf's own settings for this operator: a pure function of our settings, applied at start-up."""

from __future__ import annotations

import logging

import kopf

from streamexport_operator.exports import GROUP
from streamexport_operator.settings import Settings


def configure(kopf_settings: kopf.OperatorSettings, config: Settings) -> None:
    """Storage names, Event level, watch timeouts and cluster scanning."""
    # Explicit storages and marker names, so two operators' state never mixes in one object.
    kopf_settings.persistence.finalizer = f"{GROUP}/operator"
    kopf_settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    kopf_settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    # Log lines are not Events; phase changes post their own (see reconcile.announce).
    kopf_settings.posting.level = logging.WARNING
    # Re-open watches every few minutes: a silently dropped connection never stalls us long.
    kopf_settings.watching.server_timeout = 270
    kopf_settings.watching.client_timeout = 300
    kopf_settings.watching.connect_timeout = 30
    # Watching named namespaces, the Role grants no cluster-wide list/watch of namespaces or
    # CRDs: serve just those namespaces and the CRDs present at start-up, without trying
    # (and warning). Cluster-wide, the ClusterRole grants both, so kopf follows changes.
    kopf_settings.scanning.disabled = not config.clusterwide
