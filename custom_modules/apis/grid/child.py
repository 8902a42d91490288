"""Run one child process of the grid so that it never outlives the grid.

The child gets its own process group: Ctrl-C reaches only the grid, which
stops the group itself (SIGTERM, then SIGKILL after a grace period). For the
grid's own SIGKILL, which no handler sees, the kernel kills the child (Linux
``PR_SET_PDEATHSIG``): nothing extra to start, nothing to be killed first.
Processes a multi-GPU launcher starts are stopped by the group kill only.
"""
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
GRACE_S = 10


class Interrupted(SystemExit):
    """The grid got SIGTERM or SIGINT; its child has been stopped."""

    def __init__(self, signum):
        super().__init__(128 + signum)
        self.signum = signum


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

    SIGTERM/SIGINT to the grid stop the group and raise :class:`Interrupted`.
    """
    proc = subprocess.Popen(command, start_new_session=True,
                            preexec_fn=_die_with_parent(os.getpid()),
                            **popen_kwargs)

    def interrupt(signum, frame):
        raise Interrupted(signum)

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
