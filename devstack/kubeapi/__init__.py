"""A Kubernetes API stand-in for tests and the local demo — a development tool, not a
production component: no auth, no persistence, no admission or schema validation.

It serves, over real HTTP on loopback, enough of kube-apiserver for kopf, the kubernetes
Python client and kubectl: discovery, built-in kinds (namespaces, pods, events, secrets,
configmaps, serviceaccounts, jobs, events.k8s.io events, leases, CRDs), any kind added by a
CustomResourceDefinition, CRUD with server-set metadata, status subresources, merge/JSON
patches, finalizers, ownerReference garbage collection, selectors, paging, watches that
resume from a resourceVersion, server-side Tables for `kubectl get`, and the pods `eviction`
subresource (the `DisruptionTarget` condition, then a graceful delete that the local Job
runner, as the pod's kubelet, completes; see `eviction`).

Why not kmock: kmock 0.8's `KubernetesEmulator` is a request-matching mock with an object
store bolted on. Nearly every serving path (create, patch, delete, list, watch, discovery,
errors) would need replacing to get the semantics kopf relies on, through kmock's private
`_internal` modules. A small emulator on aiohttp (one module per concern) is less code
than that and does not break when kmock's internals change. kmock stays available for
tests that want to assert on requests.

Python, async (inside a running event loop)::

    from devstack.kubeapi import KubeAPIServer

    crds = ["crds/exports.streamexport.io.yaml"]
    async with KubeAPIServer("127.0.0.1", port=0, crds=crds) as srv:
        srv.url    # "http://127.0.0.1:<port>"

Python, sync (own thread and loop; e.g. a pytest fixture)::

    from devstack.kubeapi import ThreadedKubeAPI

    api = ThreadedKubeAPI(crds=["crds/exports.streamexport.io.yaml"]).start()
    api.url
    api.stop()          # or: with ThreadedKubeAPI(...) as api: ...

Command line (foreground; logs `kubeapi ready url=...`; stops on SIGINT/SIGTERM)::

    python -m devstack.kubeapi --host 127.0.0.1 --port 18443 \\
        --crd crds/exports.streamexport.io.yaml [--namespace streamexport]
    kubectl --server http://127.0.0.1:18443 get exports -A

Known simplifications: one storage per group/plural (versions are not converted); core and
events.k8s.io events are separate stores; no schema validation or defaulting (e.g. Jobs get
no default selector); strategic merge patch is approximated (see `patching`) and, as in
Kubernetes, refused for custom resources; no server-side apply, dryRun or protobuf; a
continue token resumes after the last returned name rather than from a snapshot; deleting
a CRD drops its objects at once, ignoring their finalizers; only an eviction deletes a pod
gracefully (a plain DELETE removes it at once, whatever its grace period) and no
PodDisruptionBudget ever blocks an eviction.
"""

from .app import create_app
from .registry import Registry, ResourceType
from .server import KubeAPIServer, ThreadedKubeAPI, load_crds
from .store import Store

__all__ = [
    "KubeAPIServer",
    "Registry",
    "ResourceType",
    "Store",
    "ThreadedKubeAPI",
    "create_app",
    "load_crds",
]
