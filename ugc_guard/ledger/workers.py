"""Which worker process recorded a submission, and whether that process still runs.

A ``received`` submission carries its recording worker as ``node:pid:start``: ``node`` is a hash of
the host name, the kernel's boot id and the PID namespace (two containers on one kernel are two
nodes), ``start`` the process's start time in clock ticks since boot (``/proc/<pid>/stat``), so a
PID reused by another process is not taken for the recorder. Only a worker on the same node can
tell whether the recorder is gone; elsewhere the answer is "unknown".
"""

from __future__ import annotations

import hashlib
import os
import socket
from functools import cache
from typing import Literal

__all__ = ["WorkerState", "this_worker", "worker_state"]

WorkerState = Literal["alive", "dead", "unknown"]


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


@cache
def _node() -> str:
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = ""
    seed = "\n".join((socket.gethostname(), _read("/proc/sys/kernel/random/boot_id"), namespace))
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def _start_time(pid: int) -> str | None:
    """Return the process's start time (clock ticks since boot), "0" without /proc, None when it is gone."""
    stat = _read(f"/proc/{pid}/stat")
    if stat:
        fields = stat.rpartition(")")[2].split()
        return fields[19] if len(fields) > 19 else "0"
    if os.path.isdir("/proc/self"):
        return None
    try:  # no /proc (not Linux): only the PID can be checked
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return "0"


@cache
def _worker(pid: int) -> str:
    return f"{_node()}:{pid}:{_start_time(pid) or '0'}"


def this_worker() -> str:
    """Return this process's ``node:pid:start`` (computed once per process, so a forked worker gets its own)."""
    return _worker(os.getpid())


def worker_state(owner: str | None) -> WorkerState:
    """Return whether the worker ``owner`` (a :func:`this_worker` value) still runs: ``unknown`` when it
    ran on another node or the value is not one this module wrote."""
    node, _, rest = (owner or "").partition(":")
    pid, _, start = rest.partition(":")
    if node != _node() or not pid.isdigit() or not start:
        return "unknown"
    if owner == this_worker():
        return "alive"
    now = _start_time(int(pid))
    if now is None:
        return "dead"
    return "alive" if start == "0" or now == "0" or now == start else "dead"
