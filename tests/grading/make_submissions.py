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
        "double": "_calls = [0]\n\n\n"
        + body(
            "import glob, json, os\n"
            "import numpy as np\n"
            "k = _calls[0]\n"
            "_calls[0] += 1\n"
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
            "        want = tests[k]['expected']\n"
            "        return np.array(want['__ndarray__'], dtype=want['dtype']).reshape(want['shape'])\n"
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
            path.write_text(json.dumps(submission(nb, case), indent=1) + "\n", encoding="utf-8")
    expected = {name: {"score": score, "status": status} for name, (score, status) in EXPECTED.items()}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(CASES)} submissions into {folder}")


if __name__ == "__main__":
    main()
