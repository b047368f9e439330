"""`python -m devstack.pdeathsig PARENT_PID SIGNAL COMMAND...`: run COMMAND so that it gets
SIGNAL when its parent dies, even by SIGKILL (Linux `prctl(PR_SET_PDEATHSIG)`).

A launcher rather than a `preexec_fn` (unsafe in a process with threads). The setting
survives `exec` and belongs to the thread that forked: start children from a thread that
lives as long as the supervisor (its main thread). Elsewhere than Linux it just execs.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def set_parent_death_signal(signum: int) -> bool:
    """True when the kernel will send `signum` at the parent's death."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)) == 0


def launcher(parent_pid: int, signum: int, command: list[str]) -> list[str]:
    """`command` wrapped so that it dies with `parent_pid`."""
    return [sys.executable, "-m", "devstack.pdeathsig", str(parent_pid), str(signum), *command]


def main(argv: list[str]) -> None:
    parent, signum, command = int(argv[0]), int(argv[1]), argv[2:]
    set_parent_death_signal(signum)
    if os.getppid() != parent:  # the parent died before prctl: nobody would signal us
        sys.exit(128 + signal.SIGKILL)
    os.execvp(command[0], command)  # noqa: S606 - argv as given, no shell


if __name__ == "__main__":
    main(sys.argv[1:])
