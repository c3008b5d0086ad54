"""Run one question of one submission in a sandbox: the limits, the user, the folder, and the supervisor.

``run`` starts ``_supervise.py`` (a small trusted process, one per run) which starts ``_runner.py``
(the process that runs the student's code) under the limits below and ends every process it leaves.
The grader's process never runs the student's code and never imports it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Limits", "count_processes", "run", "unprivileged_user"]

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "_runner.py"
SUPERVISE = HERE / "_supervise.py"
SLACK_S = 30.0  # the supervisor's own allowance beyond the runner's timeout


@dataclass(frozen=True)
class Limits:
    """Limits on one run (the notebook's cells plus one question's tests).

    ``timeout``: wall-clock seconds; CPU time is limited to the same number (plus one second).
    ``memory_mb``: address space; an allocation beyond it raises ``MemoryError`` in the student's
    process. ``file_size_mb``: the largest file it may write (its printed output goes to a file too).
    ``processes``: how many more processes the sandbox user may start.
    """

    timeout: float = 30.0
    memory_mb: int = 2048
    file_size_mb: int = 32
    processes: int = 32

    def rlimits(self, uid: int) -> dict[str, int]:
        return {
            "cpu": math.ceil(self.timeout) + 1,
            "as": int(self.memory_mb) * 2**20,
            "fsize": int(self.file_size_mb) * 2**20,
            "nproc": count_processes(uid) + int(self.processes),
            "core": 0,
        }


def unprivileged_user() -> tuple[int, int] | None:
    """``(uid, gid)`` of ``nobody`` when the grader is root (it then drops privileges); else None.

    Each run then drops to a user id of its own (``_fresh_user``), as unprivileged as ``nobody``.
    """
    if os.name != "posix" or os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return (65534, 65534)
    return (entry.pw_uid, entry.pw_gid)


UID_BASE = 1_900_000_000  # sandbox users: ids no account has (see ``_fresh_user``)
UID_SPAN = 100_000_000
_in_use: set[int] = set()
_in_use_lock = threading.Lock()


def _fresh_user() -> int:
    """A user id of its own for one run, used by no process now (root only).

    Every run gets its own id, not a shared ``nobody``: a process of one submission can then neither
    signal (``kill(-1, ...)``), trace nor read the memory or files of another submission graded beside
    it, nor use up its process limit; and after the run every process of that id can be found and ended.
    """
    import random

    with _in_use_lock:
        while True:
            uid = UID_BASE + random.randrange(UID_SPAN)
            if uid not in _in_use and count_processes(uid) == 0:
                _in_use.add(uid)
                return uid


def kill_user(uid: int) -> int:
    """SIGKILL every process of ``uid`` until none is left (root only); how many were found."""
    import time

    ended: set[int] = set()
    for _ in range(200):
        pids = _pids_of(uid)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                ended.add(pid)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)
    return len(ended)


SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")


def remove_files_of(uid: int, folders: tuple[str, ...] = SHARED_FOLDERS) -> int:
    """Remove what ``uid`` left in the world-writable folders (root only; the id is this run's alone).

    Only entries directly in those folders are looked at (the sandbox user can create nothing
    deeper except inside its own entries); links are removed, never followed. How many were removed.
    """
    removed = 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed += 1
            except OSError:
                continue
    return removed


def _pids_of(uid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    found.append(int(name))
            except OSError:
                continue
    return found


def count_processes(uid: int) -> int:
    """How many processes (threads included, as ``RLIMIT_NPROC`` counts them) ``uid`` runs now."""
    total = 0
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", encoding="ascii", errors="replace") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            total += int(fields.get("Threads", "1").strip() or 1)
    return total


def _environment(folder: Path) -> dict[str, str]:
    one = "1"
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(folder),
        "TMPDIR": str(folder),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "OMP_NUM_THREADS": one,
        "OPENBLAS_NUM_THREADS": one,
        "MKL_NUM_THREADS": one,
        "NUMEXPR_NUM_THREADS": one,
        "VECLIB_MAXIMUM_THREADS": one,
        "MPLBACKEND": "Agg",
        "NNLAB_PROGRESS": "0",
    }


def run(
    request: dict[str, Any],
    *,
    limits: Limits,
    log: Path,
    result: Path,
    isolate_network: bool = True,
) -> dict[str, Any]:
    """Run the runner on ``request`` in a fresh folder; return the supervisor's report.

    The runner's output goes to ``log`` and its data to ``result`` (both opened by the supervisor,
    which the student's process cannot reach by path when the grader is root). The report says how
    the run ended: ``returncode``, ``signal``, ``timed_out``, ``wall``, ``strays`` (processes left
    behind and ended), ``network_isolated``.
    """
    drop = None
    if unprivileged_user() is not None:
        fresh = _fresh_user()
        drop = (fresh, fresh)
    uid = drop[0] if drop else os.getuid()
    folder = Path(tempfile.mkdtemp(prefix="nnlab-grade-"))
    try:
        if drop:
            os.chown(folder, *drop)
        os.chmod(folder, 0o700)
        job = {
            "python": sys.executable,
            "runner": str(RUNNER),
            "cwd": str(folder),
            "env": _environment(folder),
            "log": str(log),
            "result": str(result),
            "timeout": float(limits.timeout),
            "limits": limits.rlimits(uid),
            "isolate_network": isolate_network,
            "request": {**request, "drop": {"uid": drop[0], "gid": drop[1]} if drop else None},
        }
        proc = subprocess.Popen(
            [sys.executable, "-I", str(SUPERVISE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(json.dumps(job).encode("utf-8"), timeout=limits.timeout + SLACK_S)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            out, err = proc.communicate()
        try:
            return json.loads(out.decode("utf-8", "replace").strip().splitlines()[-1])
        except (IndexError, ValueError):
            return {
                "returncode": None,
                "signal": None,
                "timed_out": False,
                "supervisor_failed": err.decode("utf-8", "replace")[-2000:] or f"status {proc.returncode}",
            }
    finally:
        if drop:  # anything of this run that escaped the supervisor's sweep (a killed supervisor)
            kill_user(drop[0])
            remove_files_of(drop[0])
            with _in_use_lock:
                _in_use.discard(drop[0])
        shutil.rmtree(folder, ignore_errors=True)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
