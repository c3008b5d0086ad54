"""The student's side of ``nnlab grade``: run a notebook's cells, call one answer on test inputs, send data back.

This file runs as a script (``python -I _runner.py``) in the sandbox that ``_supervise.py`` starts. It
imports the standard library and NumPy, never nnlab's exercise code: it holds no expected value and
judges nothing. Its request arrives on standard input (the cells, one question's answer name and the
inputs of that question's tests), and standard input is then closed. It writes JSON lines to the
result file descriptor it is given:

- ``{"event": "cells_done", "errors": [...]}`` once every cell has run (a cell that raises is noted
  and the next cell runs, as in a notebook run with errors allowed);
- ``{"event": "test", "index": i, "value": ..., "inputs": ...}`` (``inputs``: the arguments as they
  are after the call, so the grader can tell an answer that changes them in place) or
  ``{"event": "test", "index": i, "error": ...}`` per test; ``{"event": "done"}`` at the end, and the
  process ends at once (``os._exit``: a thread the answer left running cannot keep it alive).

Nothing here is trusted: the student's code runs in this process and can write anything to the result
descriptor. The grader only ever reads data from it, and compares it with values it alone holds.

Returned values are sent as data: ``None``, exact ``bool``/``int``/``float``/``str``, exact tuples,
lists and string-keyed dicts, and plain ``numpy.ndarray`` objects or NumPy scalars (raw bytes in
base64 with dtype and shape). Anything else (a subclass, an object with its own ``__eq__``) is sent
as ``{"__unsupported__": type name}`` and can never compare equal to anything in the grader.

When the request asks for it (the grader runs as root), the process imports what the cells need
while it is still root, then drops to the unprivileged user before any cell runs.
"""

import base64
import json
import os
import sys
import types

MAX_ARRAY_BYTES = 16 * 2**20
_NUMPY_TYPES = ()


def _send(fd, record):
    data = (json.dumps(record, allow_nan=False) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _float(value):
    if value != value:
        return {"__float__": "nan"}
    if value in (float("inf"), float("-inf")):
        return {"__float__": "inf" if value > 0 else "-inf"}
    return value


def encode_result(value, depth=0):
    """Plain data for a returned value; exact types only (see the module docstring)."""
    import numpy as np

    kind = type(value)
    if depth > 20:
        return {"__unsupported__": "a value nested more than 20 levels deep"}
    if value is None or kind in (bool, str):
        return value if kind is not str or len(value) <= 10_000 else {"__unsupported__": "a very long str"}
    if kind is int:
        return value if abs(value) < 2**63 else float(value)
    if kind is float:
        return _float(value)
    if kind is np.ndarray or (isinstance(value, np.generic) and kind.__module__ == "numpy"):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf" or arr.dtype.hasobject:
            return {"__unsupported__": f"an array of dtype {arr.dtype}"}
        if arr.nbytes > MAX_ARRAY_BYTES:
            return {"__unsupported__": f"an array of {arr.nbytes} bytes (more than {MAX_ARRAY_BYTES})"}
        return {  # tobytes() is C order whatever the layout (ascontiguousarray would make 0-d arrays 1-d)
            "__array__": base64.b64encode(arr.tobytes(order="C")).decode("ascii"),
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
        }
    if kind is tuple:
        return {"__tuple__": [encode_result(v, depth + 1) for v in value]}
    if kind is list:
        return [encode_result(v, depth + 1) for v in value]
    if kind is dict and all(type(k) is str for k in value):
        return {"__dict__": {k: encode_result(v, depth + 1) for k, v in value.items()}}
    name = getattr(kind, "__qualname__", "object")
    if isinstance(value, np.ndarray):
        return {"__unsupported__": f"a {name} (a subclass of numpy.ndarray)"}
    return {"__unsupported__": f"a {name}"}


def decode_input(data):
    """A test input as ``nnlab.exercises.format.encode`` wrote it (lists, tuples, dicts, arrays)."""
    import numpy as np

    if isinstance(data, list):
        return [decode_input(v) for v in data]
    if isinstance(data, dict):
        if "__ndarray__" in data:
            return np.array(data["__ndarray__"], dtype=data["dtype"]).reshape(data["shape"])
        if "__tuple__" in data:
            return tuple(decode_input(v) for v in data["__tuple__"])
        if "__dict__" in data:
            return {k: decode_input(v) for k, v in data["__dict__"].items()}
        if "__float__" in data:
            return float(data["__float__"])
    return data


def _runnable(text):
    """Plain Python: IPython magics and shell lines become comments (line numbers stay)."""
    lines = text.splitlines(keepends=True)
    return "".join(("# " + line) if line.lstrip().startswith(("%", "!")) else line for line in lines)


def _error(exc):
    """The exception's type and message, and the deepest line of the notebook's own code."""
    import traceback

    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<cell "):
            line = f"{frame.filename[1:-1]}, line {frame.lineno}"
    name = type(exc).__name__  # a class's __name__ is always a str
    try:  # an exception of the student's own class may have a __str__ that raises
        message = str(exc)[:500]
    except BaseException:
        message = "(its message could not be read)"
    return {"type": name[:100], "message": message, "where": line}


def _stub_exercises():
    """``nnlab.exercises`` as the graded notebook sees it: check() and summary() do nothing."""
    stub = types.ModuleType("nnlab.exercises")

    def _nothing(*args, **kwargs):
        return None

    for name in ("check", "summary", "load_tests", "case", "mistake", "returns"):
        setattr(stub, name, _nothing)
    sys.modules["nnlab.exercises"] = stub
    try:
        import nnlab

        nnlab.exercises = stub
    except ImportError:
        pass


_PRELOAD = (
    "math cmath random itertools functools collections statistics operator fractions decimal copy re"
    " json time dataclasses typing string textwrap heapq bisect numbers array struct base64 traceback"
    " linecache warnings contextlib io pathlib zlib encodings.latin_1 encodings.ascii encodings.idna"
    " encodings.unicode_escape encodings.raw_unicode_escape encodings.utf_16 numpy numpy.random"
    " numpy.linalg numpy.fft numpy.polynomial"
).split()


def _preload(names):
    import importlib

    for name in list(_PRELOAD) + list(names):
        if name in ("antigravity", "this") or name.startswith("nnlab.exercises"):
            continue
        try:
            importlib.import_module(name)
        except Exception:
            pass


def _drop(uid, gid):
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        raise SystemExit("could not drop root privileges")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [
        p for p in sys.path if os.path.abspath(p or ".") != here
    ]  # the grader's own modules stay out
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    fd = int(request["result_fd"])
    _stub_exercises()
    _preload(request.get("preload", []))
    import random

    import numpy as np

    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 - a notebook using the legacy global generator gets a fixed seed
    if request.get("drop"):
        _drop(request["drop"]["uid"], request["drop"]["gid"])
    question = request["question"]
    tests = request["tests"]
    del request["tests"]
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    errors = []
    for cell in request["cells"]:
        try:
            code = compile(_runnable(cell["source"]), f"<cell {cell['id']}>", "exec")
            exec(code, namespace)
        except SystemExit as exc:
            errors.append(
                {"cell": cell["id"], "origin": cell["origin"], "type": "SystemExit", "message": str(exc)}
            )
        except BaseException as exc:
            errors.append({"cell": cell["id"], "origin": cell["origin"], **_error(exc)})
    _send(fd, {"event": "cells_done", "errors": errors})
    if question["answer"] not in namespace:
        _send(fd, {"event": "missing"})
        return
    answer = namespace[question["answer"]]
    for index, test in enumerate(tests):
        try:
            if question["kind"] == "value":
                result = answer
            else:
                args = decode_input(test.get("args", []))
                kwargs = decode_input(test.get("kwargs", {"__dict__": {}}))
                result = answer(*args, **kwargs)
            record = {"event": "test", "index": index, "value": encode_result(result)}
            if question["kind"] != "value":  # the inputs after the call: the grader tells a change in place
                record["inputs"] = encode_result({"args": list(args), "kwargs": dict(kwargs)})
        except SystemExit as exc:
            record = {"event": "test", "index": index, "error": {"type": "SystemExit", "message": str(exc)}}
        except BaseException as exc:
            record = {"event": "test", "index": index, "error": _error(exc)}
        _send(fd, record)
    _send(fd, {"event": "done"})


if __name__ == "__main__":
    main()
    # a thread the answer started, or an atexit hook, must not keep the process (and the grader) waiting
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(0)
