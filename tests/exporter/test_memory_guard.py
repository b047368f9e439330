"""The exporter's memory guard: under a real memory cgroup it stops the process with exit 3
before the kernel's OOM killer would end it with 137 (indistinguishable from `kill -9`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devstack.memlimit import MemoryCap
from exporter.memguard import CgroupMemory, find_cgroup, over_limit, raises_safely_in
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


# A guard over fake cgroup files that say "at the limit" from the first poll.
FAKE_CGROUP = """
import sys, time, weakref
from pathlib import Path
from exporter.errors import classify
from exporter.memguard import CgroupMemory, MemoryGuard
root = Path(sys.argv[1])
for name, text in (("usage", "100"), ("limit", "100"), ("stat", "")):
    (root / name).write_text(text)
cgroup = CgroupMemory(root / "usage", root / "limit", root / "stat", "inactive_file")

def busy(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass

def stopped(run):
    # Run, then 5 s more; exit as the exporter would, or 9 if nothing stopped it.
    try:
        run()
        busy(5)
    except BaseException as exc:
        print(classify(exc).reason, flush=True)
        sys.exit(classify(exc).exit_code)
    print("not stopped", flush=True)
    sys.exit(9)
"""

# The first signal lands in a weakref callback, where the interpreter ignores exceptions.
IN_A_CALLBACK = (
    FAKE_CGROUP
    + """
class Thing:
    pass
thing = Thing()
ref = weakref.ref(thing, lambda _: busy(0.5))
guard = MemoryGuard(cgroup, 100, poll=0.02).install()

def run():
    global thing
    del thing  # runs the callback, for longer than the first poll

stopped(run)
"""
)

# The first signals land in code that passes for importlib's (frozen: no raise there).
IN_FROZEN_CODE = (
    FAKE_CGROUP
    + """
namespace = {"time": time}
loop = "def frozen():\\n    end = time.monotonic() + 0.5\\n"
loop += "    while time.monotonic() < end:\\n        pass\\n"
exec(compile(loop, "<frozen importlib._bootstrap>", "exec"), namespace)
guard = MemoryGuard(cgroup, 100, poll=0.02).install()

def run():
    namespace["frozen"]()
    print("frozen code ran to its end; deferred", guard.deferred, flush=True)

stopped(run)
"""
)


def _run_guarded(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_a_stop_swallowed_by_a_callback_is_raised_again(tmp_path: Path) -> None:
    done = _run_guarded(IN_A_CALLBACK, tmp_path)
    assert "Exception ignored" in done.stderr  # the first one was lost in the callback
    assert done.returncode == EXIT_OUT_OF_MEMORY, done.stdout + done.stderr
    assert done.stdout.strip() == "OutOfMemory"


def test_the_stop_waits_until_frozen_import_code_is_left(tmp_path: Path) -> None:
    done = _run_guarded(IN_FROZEN_CODE, tmp_path)
    lines = done.stdout.split("\n")
    assert lines[0].startswith("frozen code ran to its end; deferred "), done.stdout + done.stderr
    assert int(lines[0].rsplit(" ", 1)[1]) >= 1
    assert done.returncode == EXIT_OUT_OF_MEMORY and lines[1] == "OutOfMemory", done.stderr


def test_frozen_bootstrap_frames_are_not_safe_to_raise_in() -> None:
    frozen: dict[str, Any] = {"sys": sys}
    source = "def here():\n    return sys._getframe()\n"
    code = compile(source, "<frozen importlib._bootstrap>", "exec")
    exec(code, frozen)  # noqa: S102 - a function that passes for importlib's
    assert not raises_safely_in(frozen["here"]())
    assert raises_safely_in(sys._getframe())
