"""Write the hostile and broken submissions of ``tests/test_grade_hostile.py`` (run it after changing a case).

``python tests/grading/make_submissions.py`` builds ``demo_source.ipynb`` with ``nnlab assign``, takes
the student notebook it gives, and writes one submission per case into ``submissions/``: the
notebook with the case's answer cells. ``expected.json`` holds each case's score and status
(a regular expression), as an honest grader gives them: zero for the cheat, full marks for the
honest answers beside it. The demo has three questions: ``demo.double`` (2 points, where every
cheat lives), ``demo.square`` (1 point) and the value question ``demo.lam`` (1 point).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

DOUBLE = '''def double(x):
    """Twice x."""
{body}


check("demo.double", double)
'''
HONEST_DOUBLE = DOUBLE.format(body="    return 2 * x")
SQUARE = 'def square(x):\n    return x * x\n\n\ncheck("demo.square", square)\n'
LAM = 'lam = 0.25\n\ncheck("demo.lam", lam)\n'


def body(text: str) -> str:
    return DOUBLE.format(body="\n".join("    " + line if line else "" for line in text.splitlines()))


# case -> (answer cell of demo.double, or None to keep the honest one; how the notebook is changed)
CASES: dict[str, dict] = {
    "honest": {},
    "patch_allclose": {
        "double": "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, **k: np.ones(np.shape(b), bool)\n"
        "np.array_equal = lambda *a, **k: True\n" + body("return x + 1"),
    },
    "patch_checker": {
        "double": body("return x + 1")
        + "\ntry:\n    import nnlab.exercises.format as fmt\n    fmt.compare = lambda *a, **k: True\nexcept Exception:\n    pass\n"
        "def check(*args, **kwargs):\n    print('demo.double: passes its 4 tests.')\n",
    },
    "fake_all_passed": {
        "double": "print('All tests passed! Score: 4 / 4')\n" + body("print('test passed')\nreturn x - 1"),
    },
    "forged_results": {
        "double": body(
            "import glob, json, os\n"
            "forged = json.dumps({'score': 100, 'tests': [], 'output': 'all passed'})\n"
            "targets = ['results.json', 'raw/results.json', '/autograder/results/results.json']\n"
            "for cmd in glob.glob('/proc/*/cmdline'):\n"
            "    try:\n"
            "        args = open(cmd, 'rb').read().decode(errors='replace').split('\\0')\n"
            "    except OSError:\n"
            "        continue\n"
            "    if '--out' in args and args.index('--out') + 1 < len(args):\n"
            "        out = args[args.index('--out') + 1]\n"
            "        targets += [os.path.join(out, 'forged_results', 'results.json'), os.path.join(out, 'grades.csv')]\n"
            "for path in targets:\n"
            "    try:\n"
            "        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)\n"
            "        open(path, 'w').write(forged)\n"
            "    except OSError:\n"
            "        pass\n"
            "return 0 * x"
        ),
    },
    "infinite_loop": {"double": body("while True:\n    pass")},
    "ignores_sigterm": {
        "double": body("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass"),
    },
    "sleeps_forever": {"double": body("import time\ntime.sleep(10**6)\nreturn 2 * x")},
    "allocates_8gib": {
        "double": body(
            "import numpy as np\nbig = np.ones(2**30)  # 8 GiB of float64\nreturn 2 * x + big[0] - 1"
        )
    },
    "os_exit_in_cell": {"double": "import os\n" + HONEST_DOUBLE + "os._exit(0)\n"},
    "segfault": {"double": body("import ctypes\nctypes.string_at(0)\nreturn 2 * x")},
    "scalar_for_array": {"double": body("return float(2 * x.sum())")},
    "nan_and_inf": {
        "double": body(
            "import numpy as np\nout = 2 * x\nout[..., 0] = np.nan\nout.flat[-1] = np.inf\nreturn out"
        )
    },
    "eq_always_true": {
        "double": "class Anything:\n    def __eq__(self, other):\n        return True\n    __array_priority__ = 1000\n\n\n"
        + body("return Anything()"),
    },
    "lying_subclass": {
        "double": "import numpy as np\n\n\nclass Liar(np.ndarray):\n    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n"
        "    def tolist(self):\n        return [0.0]\n    def allclose(self, *a, **k):\n        return True\n\n\n"
        + body("return np.zeros_like(x).view(Liar)"),
    },
    "reads_bundle": {
        "double": body(
            "import glob, json, os\n"
            "import numpy as np\n"
            "def arr(d):\n"
            "    return np.array(d['__ndarray__'], dtype=d['dtype']).reshape(d['shape'])\n"
            "paths = glob.glob('/proc/*/cmdline')\n"
            "candidates = []\n"
            "for cmd in paths:\n"
            "    try:\n"
            "        candidates += open(cmd, 'rb').read().decode(errors='replace').split('\\0')\n"
            "    except OSError:\n"
            "        pass\n"
            "candidates += glob.glob('/autograder/source/**/*.json', recursive=True)\n"
            "for path in candidates:\n"
            "    if not path.endswith('.json'):\n"
            "        continue\n"
            "    try:\n"
            "        bundle = json.load(open(path))\n"
            "        tests = [q for q in bundle['questions'] if q['name'] == 'demo.double'][0]['tests']\n"
            "        for t in tests:  # the test whose input is x\n"
            "            if np.array_equal(arr(t['kwargs']['__dict__']['x']), x):\n"
            "                return arr(t['expected'])\n"
            "    except Exception:\n"
            "        continue\n"
            "return 0 * x"
        ),
    },
    "reordered_and_deleted": {"reorder": True, "delete": "demo.square"},
    "retyped_cell": {"retype": "demo.double"},
    "new_id_same_tag": {"new_id": "demo.double"},
    "double_forked_daemon": {
        "double": body(
            "import os\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        os.execv('/bin/sleep', ['sleep', '4242.123'])\n"
            "    os._exit(0)\n"
            "os.wait()\n"
            "return 2 * x"
        ),
    },
    "holds_stdout": {
        "double": body("import subprocess\nsubprocess.Popen(['/bin/sleep', '4243.123'])\nreturn 2 * x"),
    },
    "writes_huge_file": {
        "double": body(
            "chunk = b'0' * 2**20\nwith open('huge.bin', 'wb') as f:\n    for _ in range(10_000):\n        f.write(chunk)\nreturn 2 * x"
        ),
    },
    "prints_100mb": {
        "double": body("line = 'x' * 1023\nfor _ in range(100 * 1024):\n    print(line)\nreturn 2 * x")
    },
    "sys_exit_in_answer": {"double": body("import sys\nsys.exit(0)")},
    "not_json": {"raw": b'{"cells": [ this is not JSON'},
    "empty_file": {"raw": b""},
    "not_a_notebook": {"raw": b'{"hello": "a JSON file, but no notebook"}'},
    # found by the adversarial review: each of these broke something, or might have
    "forges_protocol": {  # lines that look like the runner's, on every descriptor, then a wrong answer
        "double": "import json, os\n"
        "forged = [{'event': 'cells_done', 'errors': []}, {'event': 'done'}]\n"
        "forged += [{'event': 'test', 'index': i, 'value': {'__array__': 'AAAA', 'dtype': '<f8', 'shape': [10**12]}}"
        " for i in range(8)]\n"
        "forged += [{'event': 'test', 'index': i, 'value': {'__float__': 'nan'}} for i in range(8)]\n"
        "lines = ''.join(json.dumps(e) + '\\n' for e in forged) + '[' * 100000 + '\\n'\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        "        os.write(fd, lines.encode())\n"
        "    except OSError:\n"
        "        pass\n" + body("return x - 1"),
    },
    "leaks_hidden_inputs": {  # hidden inputs read from the runner's frames, sent back in class names and messages
        "double": "import json, sys\n"
        "_seen = []\n"
        "_frame = sys._getframe(0)\n"
        "while _frame is not None:\n"
        "    if 'tests' in _frame.f_locals:\n"
        "        _seen.append(json.dumps(_frame.f_locals['tests']))\n"
        "    _frame = _frame.f_back\n"
        + body("raise type('Leak' + ''.join(_seen), (Exception,), {})(''.join(_seen) + repr(x.tolist()))"),
    },
    "changes_input": {"double": body("x *= 2\nreturn x")},
    "thread_keeps_running": {
        "double": "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(10**6,)).start()\n" + HONEST_DOUBLE,
    },
    "exception_str_raises": {
        "double": "class Odd(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\n\n\n"
        + body("raise Odd()"),
    },
    "returns_complex": {"double": body("return (2 * x).astype(complex)")},
    "deeply_nested_list": {"double": body("out = []\nfor _ in range(100_000):\n    out = [out]\nreturn out")},
    "fork_bomb": {
        "double": body(
            "import os, time\n"
            "for _ in range(10_000):\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(10**6)\n"
            "            os._exit(0)\n"
            "    except OSError:\n"
            "        break\n"
            "return 2 * x"
        ),
    },
    "writes_outside_its_folder": {  # litter in /tmp, a link to the grader's files, a try at other folders
        "double": body(
            "import glob, os\n"
            "for folder in ['/tmp', '/var/tmp', '/dev/shm']:\n"
            "    try:\n"
            "        open(os.path.join(folder, 'nnlab-litter-4244'), 'w').write('left behind')\n"
            "        os.symlink('/etc', os.path.join(folder, 'nnlab-litter-link-4244'))\n"
            "    except OSError:\n"
            "        pass\n"
            "for other in glob.glob('/tmp/nnlab-grade-*') + glob.glob('/tmp/pytest-of-*/*/*'):\n"
            "    try:\n"
            "        open(os.path.join(other, 'planted.ipynb'), 'w').write('{}')\n"
            "    except OSError:\n"
            "        pass\n"
            "if not os.path.lexists('root-link'):\n"
            "    os.symlink('/', 'root-link')  # in its own folder, which the grader removes without following\n"
            "return 2 * x"
        ),
    },
    "patches_the_runner": {  # the runner's encoder, json.dumps and its send replaced: still only data
        "double": "import json, sys\n"
        "runner = sys.modules['__main__']\n"
        "runner.encode_result = lambda value, depth=0: {'__float__': 'nan'}\n"
        "_dumps = json.dumps\n"
        "json.dumps = lambda record, **k: _dumps({**record, 'passed': True, 'score': 100})\n"
        + body("return x + 1"),
    },
    "imports_real_exercises": {  # the stub replaced by the real package, its tests searched for the answer
        "double": "import importlib, sys\n"
        "sys.modules.pop('nnlab.exercises', None)\n"
        "try:\n"
        "    real = importlib.import_module('nnlab.exercises')\n"
        "    tests = real.load_tests('demo.double')\n"
        "except Exception:\n"
        "    tests = None\n" + body("return x + 1 if tests is None else x + 2"),
    },
    "source_not_strings": {"double_source": [1, 2, None]},
    "ten_thousand_cells": {"padding": 10_000},
    "duplicate_ids": {"duplicate": "demo.double"},
}

EXPECTED = {
    "honest": (4, r"^ok$"),
    "patch_allclose": (2, r"demo\.double: .*wrong values"),
    "patch_checker": (2, r"demo\.double: .*wrong values"),
    "fake_all_passed": (2, r"demo\.double: .*wrong values"),
    "forged_results": (2, r"demo\.double: .*wrong values"),
    "infinite_loop": (2, r"^demo\.double: 0 of 4 tests pass \(time limit \(\d+ s\)\)$"),
    "ignores_sigterm": (2, r"^demo\.double: 0 of 4 tests pass \(time limit \(\d+ s\)\)$"),
    "sleeps_forever": (2, r"^demo\.double: 0 of 4 tests pass \(time limit \(\d+ s\)\)$"),
    "allocates_8gib": (2, r"demo\.double: .*memory limit"),
    "os_exit_in_cell": (
        0,
        r"^demo\.double: exited \(status 0\) while the notebook's cells ran; demo\.square: exited",
    ),
    "segfault": (2, r"^demo\.double: 0 of 4 tests pass \(killed by signal SIGSEGV\)$"),
    "scalar_for_array": (2, r"demo\.double: .*wrong kind of value"),
    "nan_and_inf": (2, r"demo\.double: .*NaN or infinity"),
    "eq_always_true": (2, r"demo\.double: .*wrong kind of value"),
    "lying_subclass": (2, r"demo\.double: .*wrong kind of value"),
    "reads_bundle": (2, r"demo\.double: .*wrong values"),
    "reordered_and_deleted": (3, r"demo\.square: answer cell not found"),
    "retyped_cell": (2, r"demo\.double: answer cell not found"),
    "new_id_same_tag": (4, r"^ok$"),
    "double_forked_daemon": (
        4,
        r"^demo\.double: passed; left \d+ process\(es\) running, ended by the grader$",
    ),
    "holds_stdout": (4, r"^demo\.double: passed; left \d+ process\(es\) running, ended by the grader$"),
    "writes_huge_file": (2, r"demo\.double: .*file size limit"),
    "prints_100mb": (2, r"demo\.double: .*file size limit"),
    "sys_exit_in_answer": (2, r"demo\.double: .*called sys\.exit\(\)"),
    "not_json": (0, r"^not a notebook: the file is not valid JSON$"),
    "empty_file": (0, r"^not a notebook: the file is empty$"),
    "not_a_notebook": (0, r"^not a notebook: valid JSON, but not a Jupyter notebook"),
    "forges_protocol": (2, r"^demo\.double: 0 of 4 tests pass \("),
    "leaks_hidden_inputs": (2, r"^demo\.double: 0 of 4 tests pass \(raised an exception of its own class\)$"),
    "changes_input": (2, r"^demo\.double: 0 of 4 tests pass \(changed its input in place\)$"),
    "thread_keeps_running": (4, r"^ok$"),
    "exception_str_raises": (
        2,
        r"^demo\.double: 0 of 4 tests pass \(raised an exception of its own class\)$",
    ),
    "returns_complex": (2, r"^demo\.double: 0 of 4 tests pass \(wrong kind of value\)$"),
    "deeply_nested_list": (2, r"^demo\.double: 0 of 4 tests pass \(wrong kind of value\)$"),
    "fork_bomb": (4, r"^demo\.double: passed; left \d+ process\(es\) running, ended by the grader$"),
    "writes_outside_its_folder": (4, r"^ok$"),
    # its cell runs before every question, so it spoils all of them (as an exit in a cell does): 0, not more
    "patches_the_runner": (0, r"^demo\.double: 0 of 4 tests pass \(NaN or infinity\); demo\.square: 0 of 2"),
    "imports_real_exercises": (2, r"^demo\.double: 0 of 4 tests pass \(wrong values\)$"),
    "source_not_strings": (2, r"^demo\.double: answer cell not found"),
    "ten_thousand_cells": (4, r"^ok$"),
    "duplicate_ids": (2, r"^demo\.double: 0 of 4 tests pass \(wrong values\)$"),
}


def student_notebook() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "nnlab", "assign", str(HERE / "demo_source.ipynb"), "--out", tmp],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return json.loads((Path(tmp) / "demo_source.ipynb").read_text(encoding="utf-8"))


def tag_of(cell: dict) -> str | None:
    return next((t[9:] for t in cell.get("metadata", {}).get("tags", []) if t.startswith("question:")), None)


def submission(nb: dict, case: dict) -> dict:
    nb = json.loads(json.dumps(nb))
    answers = {"demo.double": case.get("double", HONEST_DOUBLE), "demo.square": SQUARE, "demo.lam": LAM}
    for cell in nb["cells"]:
        name = tag_of(cell)
        if name:
            cell["source"] = answers[name].splitlines(keepends=True)
            cell["outputs"] = [
                {"name": "stdout", "output_type": "stream", "text": ["demo.double: passes.\n"]}
            ]
            cell["execution_count"] = 1
    cells = nb["cells"]
    if "double_source" in case:
        next(c for c in cells if tag_of(c) == "demo.double")["source"] = case["double_source"]
    if case.get("padding"):
        cells += [
            {"cell_type": "code", "id": f"pad-{i}", "metadata": {}, "outputs": [], "source": f"pad = {i}\n"}
            for i in range(case["padding"])
        ]
    if case.get("duplicate"):  # two cells claim one question: the first (a wrong answer) is the one graded
        index = next(i for i, c in enumerate(cells) if tag_of(c) == case["duplicate"])
        first = json.loads(json.dumps(cells[index]))
        first["source"] = body("return x + 1").splitlines(keepends=True)
        cells.insert(index, first)
    if case.get("delete"):
        cells[:] = [c for c in cells if tag_of(c) != case["delete"]]
    if case.get("reorder"):
        cells[:] = [c for c in cells if c["cell_type"] == "code"][::-1]
    for key in ("retype", "new_id"):
        if case.get(key):
            cell = next(c for c in cells if tag_of(c) == case[key])
            cell["id"] = "retyped-by-student"
            if key == "retype":
                cell["metadata"] = {}
    return nb


def main() -> None:
    nb = student_notebook()
    folder = HERE / "submissions"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, case in CASES.items():
        path = folder / f"{name}.ipynb"
        if "raw" in case:
            path.write_bytes(case["raw"])
        else:
            indent = None if case.get("padding") else 1  # the 10,000-cell notebook stays small on disk
            path.write_text(json.dumps(submission(nb, case), indent=indent) + "\n", encoding="utf-8")
    expected = {name: {"score": score, "status": status} for name, (score, status) in EXPECTED.items()}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(CASES)} submissions into {folder}")


if __name__ == "__main__":
    main()
