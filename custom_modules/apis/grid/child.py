"""Run one child process of the grid so that it never outlives the grid.

The child gets its own process group (``start_new_session``): a terminal's
Ctrl-C reaches only the grid, which then stops the whole group itself, first
with SIGTERM and, after a grace period, SIGKILL. For the grid's own SIGKILL,
which no handler sees, the child asks the kernel (Linux ``prctl
PR_SET_PDEATHSIG``) to SIGKILL it when its parent dies. We chose the kernel
over a watchdog process: nothing extra to start, and nothing that could
itself be killed first. It covers the direct child (``tools/train.py``,
whose dataloader workers exit with it); processes a multi-GPU launcher
(``dist_train.sh``) starts are stopped by the group kill on SIGTERM/SIGINT
only.
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
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group's other members


def run_child(command, **popen_kwargs):
    """Run ``command`` to its end in its own process group; return its exit
    code. SIGTERM/SIGINT to the grid stop the group and raise
    :class:`Interrupted`."""
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
