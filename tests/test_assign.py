"""``nnlab assign``: one source in, a student notebook, a bundle and public tests out; bad sources get a sentence."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nnlab import cli
from nnlab.exercises import format as fmt
from nnlab.exercises import student

ROOT = Path(__file__).resolve().parents[1]

SETUP = "import numpy as np\nfrom nnlab.exercises import check, summary\n"
QUESTION = '''\
# NBVAL_CHECK_OUTPUT
def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    y = 2 * x  # the secret line
    return y
    ### END SOLUTION


check("demo.double", double)
'''
PUBLIC = """\
from nnlab.exercises import case, mistake

case(x=np.array([1.0, 2.0]), expect=np.array([2.0, 4.0]))
case(x=3)
mistake(lambda x: x + x + 1, "Twice x is x + x, nothing more.")
"""
HIDDEN = "from nnlab.exercises import case\n\ncase(x=np.arange(6.0).reshape(2, 3))  # hidden input 41.5\n"
VALUE = 'lam = 1.0  # SOLUTION\n\ncheck("demo.lam", lam)\n'
VALUE_PUBLIC = 'from nnlab.exercises import case, mistake\n\ncase()\nmistake(0.5, "Not the step that lands on the minimum.")\n'


def cell(source: str, *tags: str, kind: str = "code", id: str | None = None) -> dict:
    data = {"cell_type": kind, "metadata": {"tags": list(tags)} if tags else {}, "source": source}
    if kind == "code":
        data.update(execution_count=None, outputs=[])
    if id:
        data["id"] = id
    return data


def notebook(cells: list[dict]) -> dict:
    for i, c in enumerate(cells, start=1):
        c.setdefault("id", f"c{i}")
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def good_cells() -> list[dict]:
    return [
        cell("# Demo exercises", kind="markdown"),
        cell(SETUP),
        cell(QUESTION, "question:demo.double", "points:2", id="q-double"),
        cell(PUBLIC, "public:demo.double"),
        cell(HIDDEN, "hidden:demo.double"),
        cell(VALUE, "question:demo.lam"),
        cell(VALUE_PUBLIC, "public:demo.lam"),
        cell('summary("demo")'),
    ]


def write(tmp_path: Path, cells: list[dict], name: str = "demo.ipynb") -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(notebook(cells), indent=1), encoding="utf-8")
    return path


def run_assign(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["assign", *args])
    return status, out.getvalue(), err.getvalue()


def test_assign_writes_the_student_notebook_the_bundle_and_the_public_tests(tmp_path):
    source = write(tmp_path, good_cells())
    status, _, err = run_assign(str(source), "--out", str(tmp_path / "out"))
    assert status == 0, err
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.*"))
    assert files == ["autograder/demo.json", "demo.ipynb", "public/demo.json"]

    nb = json.loads((tmp_path / "out" / "demo.ipynb").read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert [c["id"] for c in nb["cells"]] == ["c1", "c2", "q-double", "c6", "c8"]
    assert sources[2] == 'def double(x):\n    """Twice x."""\n    ...\n\n\ncheck("demo.double", double)\n'
    assert sources[3] == 'lam = ...\n\ncheck("demo.lam", lam)\n'
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    text = (tmp_path / "out" / "demo.ipynb").read_text(encoding="utf-8")
    for secret in (
        "the secret line",
        "return y",
        "1.0  # SOLUTION",
        "41.5",
        "case(",
        "mistake(",
        "NBVAL",
        "hidden",
    ):
        assert secret not in text

    bundle = json.loads((tmp_path / "out" / "autograder" / "demo.json").read_text(encoding="utf-8"))
    assert bundle["format"] == "nnlab-exercises" and bundle["format_version"] == fmt.FORMAT_VERSION
    assert bundle["total_points"] == 3 and bundle["notebook"] == "demo.ipynb"
    double, lam = bundle["questions"]
    assert (double["name"], double["points"], double["cell_id"], double["answer"], double["kind"]) == (
        "demo.double",
        2,
        "q-double",
        "double",
        "function",
    )
    assert [t["visibility"] for t in double["tests"]] == ["public", "public", "hidden"]
    assert fmt.decode(double["tests"][2]["expected"]).tolist() == [[0, 2, 4], [6, 8, 10]]
    assert double["hints"] == ["Twice x is x + x, nothing more."]
    assert (lam["kind"], lam["points"], fmt.decode(lam["tests"][0]["expected"])) == ("value", 1, 1.0)

    public = json.loads((tmp_path / "out" / "public" / "demo.json").read_text(encoding="utf-8"))
    assert [len(q["tests"]) for q in public["questions"]] == [2, 1]
    assert [q["hidden_tests"] for q in public["questions"]] == [1, 0]
    # a value question's expected answer IS the answer: it stays out of everything students get
    assert "expected" in public["questions"][0]["tests"][0]
    assert "expected" not in public["questions"][1]["tests"][0]
    assert "expected" not in json.dumps(nb["metadata"]).split('"demo.lam"')[-1]
    # the grader's canonical notebook: the instructor's code cells, and which cell answers which question
    assert bundle["cells"] == [
        {"id": "c2", "question": None, "source": SETUP},
        {"id": "q-double", "question": "demo.double"},
        {"id": "c6", "question": "demo.lam"},
        {"id": "c8", "question": None, "source": 'summary("demo")'},
    ]


def test_assign_is_deterministic(tmp_path):
    source = write(tmp_path, good_cells())
    first = {}
    for run in ("a", "b", "a"):
        assert run_assign(str(source), "--out", str(tmp_path / run))[0] == 0
        files = {p.relative_to(tmp_path / run): p.read_bytes() for p in sorted((tmp_path / run).rglob("*.*"))}
        if run in first:
            assert files == first[run]
        first.setdefault(run, files)
    assert first["a"] == first["b"]


def test_checks_in_the_generated_notebook_work_from_the_public_tests(tmp_path):
    source = write(tmp_path, good_cells())
    assert run_assign(str(source), "--out", str(tmp_path / "out"))[0] == 0
    student.load_tests(tmp_path / "out" / "public" / "demo.json")
    try:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            student.check("demo.double", lambda x: 2 * x)
            student.check("demo.double", lambda x: x + x + 1)
            student.check("demo.lam", 0.5)
            student.check("demo.lam", 2.0)
            student.check("demo.lam", ...)
        lines = buffer.getvalue().splitlines()
        assert lines[0] == "demo.double: passes its 2 public tests."
        assert "  Hint: this looks like a usual mistake. Twice x is x + x, nothing more." in lines
        # a value question's answer is not shipped: a usual mistake is named, anything else waits for grading
        assert lines[-4:] == [
            "demo.lam: your answer is a usual mistake.",
            "  Hint: Not the step that lands on the minimum.",
            "demo.lam: answered; its value is checked when your work is graded (the answer is not shipped).",
            "demo.lam: not answered yet.",
        ]
        assert "1.0" not in buffer.getvalue() and "1 expected" not in buffer.getvalue()
    finally:
        student._known().pop("demo.double", None)
        student._known().pop("demo.lam", None)
        student._results.clear()


def test_a_grader_can_run_the_answer_in_another_process(tmp_path):
    """Tests are data: a separate process runs the student's code on a test's inputs and sends back JSON."""
    source = write(tmp_path, good_cells())
    assert run_assign(str(source), "--out", str(tmp_path / "out"))[0] == 0
    bundle = json.loads((tmp_path / "out" / "autograder" / "demo.json").read_text(encoding="utf-8"))
    question = bundle["questions"][0]
    submission = tmp_path / "submission.py"
    submission.write_text("def double(x):\n    return x * 2.0\n", encoding="utf-8")
    runner = textwrap.dedent(
        """
        import json, runpy, sys
        from nnlab.exercises import format as fmt
        question = json.loads(sys.stdin.read())
        answer = runpy.run_path(sys.argv[1])[question["answer"]]
        results = [fmt.encode(fmt.run_test(answer, t, kind=question["kind"])) for t in question["tests"]]
        print(json.dumps(results))
        """
    )
    sent = {k: v for k, v in question.items() if k != "tests"}
    sent["tests"] = [
        {"args": t["args"], "kwargs": t["kwargs"]} for t in question["tests"]
    ]  # no expected values
    result = subprocess.run(
        [sys.executable, "-c", runner, str(submission)],
        input=json.dumps(sent),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    received = json.loads(result.stdout)
    for test, got in zip(question["tests"], received):
        assert fmt.compare(
            fmt.decode(got), fmt.decode(test["expected"]), rtol=test["rtol"], atol=test["atol"]
        )


def _broken(kind: str) -> list[dict]:
    cells = good_cells()
    if kind == "question without test":
        del cells[3:5]  # the public and hidden tests of demo.double
    elif kind == "test for no question":
        cells[4]["metadata"]["tags"] = ["hidden:demo.triple"]
    elif kind == "duplicate names":
        cells[5]["metadata"]["tags"] = ["question:demo.double"]
    elif kind == "END without BEGIN":
        cells[2]["source"] = QUESTION.replace("    ### BEGIN SOLUTION\n", "")
    elif kind == "BEGIN without END":
        cells[2]["source"] = QUESTION.replace("    ### END SOLUTION\n", "")
    elif kind == "BEGIN inside BEGIN":
        cells[2]["source"] = QUESTION.replace("    return y\n", "    ### BEGIN SOLUTION\n    return y\n")
    elif kind == "no check line":
        cells[2]["source"] = QUESTION.replace('check("demo.double", double)\n', "")
    elif kind == "expect disagrees":
        cells[3]["source"] = PUBLIC.replace("expect=np.array([2.0, 4.0])", "expect=np.array([2.0, 5.0])")
    elif kind == "mistake passes":
        cells[3]["source"] = PUBLIC.replace("x + x + 1", "x + x")
    elif kind == "mistyped role tag":
        cells[4]["metadata"]["tags"] = ["hiden:demo.double"]
    elif kind == "role without a colon":
        cells[4]["metadata"]["tags"] = ["Hidden"]
    elif kind == "sys.exit in a cell":
        cells[1]["source"] = SETUP + "import sys\nsys.exit(3)\n"
    elif kind == "sys.exit in a solution":
        cells[2]["source"] = QUESTION.replace("    return y\n", "    import sys\n    sys.exit(0)\n")
    elif kind == "complex input":
        cells[3]["source"] = PUBLIC + "case(x=np.array([1 + 2j]))\n"
    elif kind == "complex output":
        cells[4]["source"] = HIDDEN + "case(x=3j)\n"
    return cells


BROKEN = {
    "question without test": "cell 3 (id q-double) is tagged question:demo.double, but no cell is tagged public:demo.double",
    "test for no question": "cell 5 (id c5) is tagged hidden:demo.triple, but no cell is tagged question:demo.triple",
    "duplicate names": "cell 6 (id c6) repeats the question name demo.double of cell 3 (id q-double)",
    "END without BEGIN": "cell 3 (id q-double) has ### END SOLUTION on line 6 with no ### BEGIN SOLUTION before it",
    "BEGIN without END": "cell 3 (id q-double) opens ### BEGIN SOLUTION on line 4 and never closes it",
    "BEGIN inside BEGIN": "cell 3 (id q-double) opens ### BEGIN SOLUTION on line 6 while the one on line 4 is still open",
    "no check line": 'cell 3 (id q-double) is tagged question:demo.double but has no line check("demo.double", answer)',
    "expect disagrees": "cell 4 (id c4): the solution of demo.double disagrees with expect= on public case 1",
    "mistake passes": 'the mistake "Twice x is x + x, nothing more." of demo.double passes every public test',
    "mistyped role tag": "cell 5 (id c5) has the tag 'hiden:demo.double', which nnlab assign does not know (did you"
    " mean hidden:...?); the role tags are question:NAME, points:N, public:NAME and hidden:NAME.",
    "role without a colon": "cell 5 (id c5) has the tag 'Hidden', which nnlab assign does not know",
    "sys.exit in a cell": "cell 2 (id c2) called sys.exit(3); a source must run to its end",
    "sys.exit in a solution": "cell 4 (id c4): the solution of demo.double called sys.exit(0) on public case 1 of demo.double.",
    "complex input": "cell 4 (id c4): an argument of public case 3 of demo.double cannot be stored as test data"
    " (complex numbers cannot be stored in an exercise file",
    "complex output": "cell 5 (id c5): an argument of hidden case 2 of demo.double cannot be stored as test data"
    " (complex numbers cannot be stored",
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_malformed_source_gets_one_sentence_exit_status_2_and_no_file(tmp_path, kind):
    source = write(tmp_path, _broken(kind))
    good = write(
        tmp_path, good_cells(), name="other.ipynb"
    )  # a good source in the same run is not written either
    status, out, err = run_assign(str(good), str(source), "--out", str(tmp_path / "out"))
    assert status == 2
    assert out == ""
    assert err.startswith("nnlab assign: demo.ipynb: ") and BROKEN[kind] in err, err
    assert err.count("\n") == 1 and err.rstrip().endswith(".")
    assert not (tmp_path / "out").exists()


def test_the_nnlab_command_exits_with_status_2(tmp_path):
    source = write(tmp_path, _broken("duplicate names"))
    result = subprocess.run(
        [sys.executable, "-m", "nnlab.cli", "assign", str(source), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("nnlab assign: demo.ipynb: cell 6 (id c6) repeats the question name")
    assert not (tmp_path / "out").exists()


def test_out_may_not_be_the_sources_folder(tmp_path):
    source = write(tmp_path, good_cells())
    status, _, err = run_assign(str(source), "--out", str(source.parent))
    assert status == 2 and "would overwrite the source" in err


def test_an_endless_loop_meets_the_time_limit_per_cell(tmp_path):
    looping = good_cells()
    looping[2]["source"] = QUESTION.replace("    return y\n", "    while True:\n        pass\n")
    status, _, err = run_assign(
        str(write(tmp_path, looping)), "--out", str(tmp_path / "out"), "--cell-timeout", "0.3"
    )
    assert status == 2
    assert "cell 4 (id c4): the solution of demo.double ran longer than 0.3 s on public case 1" in err
    at_top = good_cells()
    at_top[1]["source"] = SETUP + "while True:\n    pass\n"
    status, _, err = run_assign(
        str(write(tmp_path, at_top)), "--out", str(tmp_path / "out"), "--cell-timeout", "0.3"
    )
    assert status == 2 and "cell 2 (id c2) ran longer than 0.3 s, the time limit per cell" in err
    assert not (tmp_path / "out").exists()


def test_nan_and_infinity_are_written_as_standard_json(tmp_path):
    cells = good_cells()
    cells[4]["source"] = HIDDEN + "case(x=np.array([np.nan, np.inf, -np.inf, 1.5]))\ncase(x=float('nan'))\n"
    assert run_assign(str(write(tmp_path, cells)), "--out", str(tmp_path / "out"))[0] == 0

    def reject(token: str) -> None:
        raise ValueError(f"non-standard JSON: {token}")

    text = (tmp_path / "out" / "autograder" / "demo.json").read_text(encoding="utf-8")
    bundle = json.loads(text, parse_constant=reject)
    tests = bundle["questions"][0]["tests"]
    arr = fmt.decode(tests[3]["expected"])
    assert np.isnan(arr[0]) and arr[1] == np.inf and arr[2] == -np.inf and arr[3] == 3.0
    assert np.isnan(fmt.decode(tests[4]["kwargs"])["x"]) and np.isnan(fmt.decode(tests[4]["expected"]))
    assert "NaN" not in text and "Infinity" not in text


def test_question_names_are_unique_across_exercise_files(tmp_path):
    first = write(tmp_path, good_cells(), name="first.ipynb")
    second = write(tmp_path, good_cells(), name="second.ipynb")
    status, _, err = run_assign(str(first), str(second), "--out", str(tmp_path / "out"))
    assert status == 2
    assert err.startswith("nnlab assign: second.ipynb: the question demo.double is also in first.ipynb;")
    assert not (tmp_path / "out").exists()


RANDOM_HIDDEN = (
    "from nnlab.exercises import case\n\n"
    "rng = np.random.default_rng(3)\n"
    "case(x=rng.normal(size=4))\n"
    "np.random.seed(4)\n"
    "case(x=np.random.uniform(size=2))\n"
    "case(x=np.arange(3.0), expect=np.array([0.0, 2.0, 4.0]))\n"
)


def _hidden(tmp_path: Path, *seed: str) -> list[dict]:
    cells = good_cells()
    cells[4]["source"] = RANDOM_HIDDEN
    out = tmp_path / ("seed" + "-".join(seed))
    assert (
        run_assign(
            str(write(tmp_path, cells)), "--out", str(out), *(("--hidden-seed", *seed) if seed else ())
        )[0]
        == 0
    )
    bundle = json.loads((out / "autograder" / "demo.json").read_text(encoding="utf-8"))
    assert (
        (out / "public" / "demo.json").read_bytes()
        == (tmp_path / "seed" / "public" / "demo.json").read_bytes()
        if seed
        else True
    )
    return bundle["questions"][0]["tests"]


def test_a_hidden_seed_redraws_the_hidden_inputs_and_recomputes_the_expected_values(tmp_path):
    public_seedless = _hidden(tmp_path)
    with_7, again_7, with_8 = _hidden(tmp_path, "7"), _hidden(tmp_path, "7"), _hidden(tmp_path, "8")
    assert with_7 == again_7  # the same private seed gives the same bundle
    public = [t for t in public_seedless if t["visibility"] == "public"]
    assert [t for t in with_7 if t["visibility"] == "public"] == public
    for tests in (with_7, with_8):
        hidden = [t for t in tests if t["visibility"] == "hidden"]
        for test in hidden:  # expected values are the solution's, on the new inputs
            x = fmt.decode(test["kwargs"])["x"]
            assert np.array_equal(fmt.decode(test["expected"]), 2 * x)
    drawn = [
        [fmt.decode(t["kwargs"])["x"] for t in tests if t["visibility"] == "hidden"]
        for tests in (public_seedless, with_7, with_8)
    ]
    for k in (0, 1):  # random inputs change with the seed
        assert not np.allclose(drawn[0][k], drawn[1][k]) and not np.allclose(drawn[1][k], drawn[2][k])
    assert np.array_equal(drawn[0][2], drawn[1][2])  # a literal input stays as written
