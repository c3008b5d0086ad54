"""One sandboxed run for ``nnlab grade``: start the runner under limits, wait, end everything it started.

Runs as a script (``python -I _supervise.py``), standard library only, one per question of a
submission. The job arrives as JSON on standard input; the report leaves as one JSON line on standard
output. The supervisor

- makes itself a child subreaper (Linux ``prctl``), so a process the student's code double-forks
  and detaches is re-parented here, where it can be found and ended;
- moves itself into a new network namespace where the kernel allows it (so the runner has no network);
- starts ``python -I _runner.py`` in a new session (its own process group) with an almost empty
  environment, its own working directory, standard input a pipe that is closed after the request,
  standard output and error into a log file, and limits on CPU time, address space, file size,
  number of processes and core dumps (``PR_SET_NO_NEW_PRIVS`` too, so no set-uid program gains rights);
- waits at most ``timeout`` seconds of wall-clock time, then kills the process group;
- kills every process left: the group, then every child re-parented to it, until none is left.
"""

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNET = 0x40000000


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl(option, value):
    libc = _libc()
    return libc is not None and hasattr(libc, "prctl") and libc.prctl(option, value, 0, 0, 0) == 0


def _unshare_network():
    libc = _libc()
    return libc is not None and hasattr(libc, "unshare") and libc.unshare(CLONE_NEWNET) == 0


def _children():
    """Process ids whose parent is this process (read from /proc)."""
    me, found = os.getpid(), []
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            found.append(int(name))
    return found


def _reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _sweep(group):
    """Kill the runner's group and every process re-parented here; return how many strays were ended."""
    ended = set()
    quiet = 0
    for _ in range(2000):
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        pids = _children()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                ended.add(pid)
            except (ProcessLookupError, PermissionError):
                pass
        _reap()
        if not pids:
            quiet += 1
            if quiet >= 3:
                break
            time.sleep(0.005)
        else:
            quiet = 0
    ended.discard(group)
    return len(ended)


def _limits(limits):
    def apply():
        os.setsid()
        for name, value in limits.items():
            which = getattr(resource, f"RLIMIT_{name.upper()}")
            soft = int(value)
            hard = soft + 1 if name == "cpu" else soft
            resource.setrlimit(which, (soft, hard))
        _prctl(PR_SET_NO_NEW_PRIVS, 1)

    return apply


def main():
    job = json.loads(sys.stdin.read())
    subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    network = job.get("isolate_network", True) and _unshare_network()
    log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    result = os.open(job["result"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    request = dict(job["request"], result_fd=result)
    start = time.monotonic()
    proc = subprocess.Popen(
        [job["python"], "-I", job["runner"]],
        stdin=subprocess.PIPE,
        stdout=log,
        stderr=log,
        cwd=job["cwd"],
        env=job["env"],
        pass_fds=(result,),
        preexec_fn=_limits(job["limits"]),
    )
    os.close(log)
    os.close(result)
    timed_out = False
    try:
        proc.stdin.write(json.dumps(request).encode("utf-8"))
        proc.stdin.close()
    except OSError:  # the runner died before reading its request
        pass
    try:
        proc.wait(timeout=job["timeout"])
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.wait()
    wall = time.monotonic() - start
    returncode = proc.returncode
    strays = _sweep(proc.pid)
    report = {
        "returncode": returncode,
        "signal": signal.Signals(-returncode).name if returncode < 0 else None,
        "timed_out": timed_out,
        "wall": round(wall, 3),
        "strays": strays,
        "subreaper": subreaper,
        "network_isolated": bool(network),
        "cpu": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime, 3),
    }
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
