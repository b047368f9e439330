"""The exporter's memory guard: under a real memory cgroup it stops the process with exit 3
before the kernel's OOM killer would end it with 137 (indistinguishable from `kill -9`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devstack.memlimit import MemoryCap
from exporter.memguard import CgroupMemory, find_cgroup, over_limit
from streamexport_core.contract import EXIT_OUT_OF_MEMORY

# Grows by 4 MiB every 20 ms (slower than one guard poll) until something stops it.
GROWER = """
import sys, time
from exporter.errors import classify
from exporter.memguard import MemoryGuard
guard = MemoryGuard.start(poll=0.02)
print("guarded" if guard else "unguarded", flush=True)
hog = []
try:
    while True:
        hog.append(bytearray(4 * 1024 * 1024))
        time.sleep(0.02)
except BaseException as exc:
    failure = classify(exc)
    print(failure.reason, failure.message, flush=True)
    sys.exit(failure.exit_code)
"""


def test_v2_and_v1_paths_are_found_from_proc_self_cgroup(tmp_path: Path) -> None:
    (tmp_path / "kubepods" / "pod1").mkdir(parents=True)
    (tmp_path / "kubepods" / "pod1" / "memory.max").write_text("536870912\n")
    found = find_cgroup("0::/kubepods/pod1\n", tmp_path)
    assert found == CgroupMemory(
        tmp_path / "kubepods/pod1/memory.current",
        tmp_path / "kubepods/pod1/memory.max",
        tmp_path / "kubepods/pod1/memory.stat",
        "inactive_file",
    )
    assert found.limit_bytes() == 512 * 1024 * 1024
    (tmp_path / "memory" / "job").mkdir(parents=True)
    (tmp_path / "memory" / "job" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    v1 = find_cgroup("12:memory:/job\n0::/kubepods/pod1\n", tmp_path)
    assert v1 is not None and v1.inactive_key == "total_inactive_file"
    assert v1.limit_bytes() is None  # v1's "no limit"


def test_the_threshold_is_a_fraction_of_the_limit() -> None:
    assert not over_limit(89, 100)
    assert over_limit(90, 100)


def test_a_growing_process_stops_itself_with_exit_3_before_the_kernel_kills_it() -> None:
    with MemoryCap(160 * 1024 * 1024) as cap:
        if cap.mode == "rlimit":
            pytest.skip("no memory cgroup can be made here")
        process = cap.popen([sys.executable, "-c", GROWER], stdout=subprocess.PIPE, text=True)
        out, _ = process.communicate(timeout=60)
        assert not cap.oom_killed, out
    assert out.splitlines()[0] == "guarded"
    assert process.returncode == EXIT_OUT_OF_MEMORY, out
    assert "OutOfMemory" in out and "of the 160 MiB limit" in out
