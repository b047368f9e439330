"""Pods are created as the Job controller creates them: its labels and a controller
ownerReference, so that selectors and garbage collection work as in a cluster."""

from __future__ import annotations

from runner_support import (
    RunnerThread,
    create_job,
    eventually,
    job_manifest,
    pods_of,
    wait_finished,
)

from devstack.kubeclient import JSON, Job, KubeClient, Pod


async def test_pods_carry_the_job_labels_and_owner(kube: KubeClient, runner: RunnerThread) -> None:
    manifest = job_manifest("labelled", "pass", labels={"app.kubernetes.io/name": "demo"})
    await create_job(kube, manifest)

    job = await wait_finished(kube, "labelled")

    uid = job["metadata"]["uid"]
    [pod] = await pods_of(kube, job)
    assert pod["metadata"]["name"].startswith("labelled-")
    assert pod["metadata"]["labels"] == {
        "app.kubernetes.io/name": "demo",  # the template's own labels
        "job-name": "labelled",
        "batch.kubernetes.io/job-name": "labelled",
        "controller-uid": uid,
        "batch.kubernetes.io/controller-uid": uid,
    }
    assert pod["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": "labelled",
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert pod["spec"]["containers"][0]["name"] == "main"
    assert pod["spec"]["nodeName"] == "localhost"


async def test_pods_go_with_their_job(kube: KubeClient, runner: RunnerThread) -> None:
    await create_job(kube, job_manifest("collected", "pass"))
    job = await wait_finished(kube, "collected")
    assert len(await pods_of(kube, job)) == 1

    await kube.delete(Job, "collected", namespace="default")

    async def no_pods() -> bool:
        labels = {"job-name": "collected"}
        found: list[JSON] = await kube.list(Pod, namespace="default", labels=labels)
        return not found

    await eventually(no_pods)
