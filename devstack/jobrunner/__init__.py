"""Local Job runner: a development stand-in for the kubelet and the Job controller.

Not a production component, and never deployed: it lets the real operator's Jobs run on a
machine without a cluster (`make demo`, `make up`, the end-to-end tests).

    python -m devstack.jobrunner --kube-url http://127.0.0.1:18443 [--workdir DIR]

It watches batch/v1 Jobs, creates a Pod per attempt (with the Job controller's labels and
a controller ownerReference), runs the pod's container as a subprocess with the template's
env (values, `secretKeyRef`, `configMapKeyRef`, `fieldRef`) under the container's memory
limit (a memory cgroup, v1 or v2, where one can be made, else an address-space rlimit; the
method is logged at start) and the Job's `activeDeadlineSeconds`, and writes Pod and Job
status back as Kubernetes would (backoffLimit, podFailurePolicy, conditions and reasons).
Deleting a Job stops its process: SIGTERM, then SIGKILL after the grace period.

Local stand-ins for what a cluster provides: `python`/`python3` in a command means this
machine's interpreter (the image is ignored); the container's env is the template's plus
PATH, HOME, LANG and PYTHONUNBUFFERED (nothing else of the runner's); the termination-log
file and the `/tmp` emptyDir become per-pod files under the work directory, passed as
TERMINATION_MESSAGE_PATH and TMPDIR. Modules: `runner` (watch and Job controller),
`kubelet` (one Pod), `process` (one subprocess), `pods`, `jobstatus`, `podenv` and
`quantity` (pure).
"""
