"""Run one child process of the grid so that it never outlives the grid:
its own process group, which the grid stops on SIGTERM/SIGINT, and the
kernel's PR_SET_PDEATHSIG for the grid's SIGKILL (docs/reliability.md)."""
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
GRACE_S = 10


def _die_with_parent(parent):
    """In the child, before exec: SIGKILL me when my parent dies."""
    def preexec():
        if sys.platform.startswith('linux'):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl
            os._exit(1)
    return preexec


def stop_group(proc, grace=GRACE_S):
    """SIGTERM the child's process group, then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run_child(command, **popen_kwargs):
    """Run ``command`` in its own process group; return its exit code.

    SIGTERM/SIGINT to the grid stop the group and exit with 128 + signal.
    """
    proc = subprocess.Popen(command, start_new_session=True,
                            preexec_fn=_die_with_parent(os.getpid()),
                            **popen_kwargs)

    def interrupt(signum, frame):
        raise SystemExit(128 + signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, interrupt)
                    for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:
            stop_group(proc)
