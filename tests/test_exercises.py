"""The book's exercises: built from their sources, full marks for the solutions, feedback a student can act on.

nbval runs every notebook under exercises/ as well (sources with their saved outputs, student
notebooks from a clean state); these tests look at what the notebooks print and what they contain.
"""

from __future__ import annotations

import contextlib
import io
import json
import linecache
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnlab.exercises import format as fmt
from nnlab.exercises import student
from nnlab.exercises.assign import assign
from nnlab.exercises.source import BEGIN, END, INLINE, run_source

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "exercises" / "source").glob("*.ipynb"))
CHAPTERS = [p.stem for p in SOURCES]
PUBLIC = ROOT / "nnlab" / "exercises" / "public"


def _bundle(stem: str) -> dict:
    return json.loads((ROOT / "exercises" / "autograder" / f"{stem}.json").read_text(encoding="utf-8"))


def _code_cells(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _run_cells(codes: list[str], tag: str) -> tuple[dict, list[str]]:
    """Run code cells in one namespace as a kernel would (sources registered for tracebacks); stdout per cell."""
    namespace: dict = {"__name__": "__main__"}
    outputs = []
    for i, code in enumerate(codes):
        filename = f"<{tag} cell {i}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, filename, "exec"), namespace)
        outputs.append(buffer.getvalue())
    return namespace, outputs


@pytest.fixture(autouse=True)
def _fresh_results():
    student._results.clear()
    yield
    student._results.clear()


def _checked(name: str, answer) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        student.check(name, answer)
    return buffer.getvalue()


def test_there_are_four_chapters_with_at_least_three_questions_each():
    assert CHAPTERS == ["01_perceptron", "02_gradient_descent", "03_backpropagation", "04_saturation"]
    for number, stem in enumerate(CHAPTERS, start=1):
        questions = _bundle(stem)["questions"]
        assert len(questions) >= 3
        assert all(q["name"].startswith(f"ch{number:02d}.") for q in questions)


def test_built_files_are_byte_identical_to_a_fresh_assign(tmp_path):
    """The committed student notebooks, bundles and public tests are what `nnlab assign` writes today."""
    assign(SOURCES, tmp_path, tmp_path / "public")
    for stem in CHAPTERS:
        pairs = [
            (tmp_path / f"{stem}.ipynb", ROOT / "exercises" / f"{stem}.ipynb"),
            (tmp_path / "autograder" / f"{stem}.json", ROOT / "exercises" / "autograder" / f"{stem}.json"),
            (tmp_path / "public" / f"{stem}.json", PUBLIC / f"{stem}.json"),
        ]
        for made, committed in pairs:
            assert made.read_bytes() == committed.read_bytes(), (
                f"{committed} is stale: run tools/build_exercises.py"
            )


@pytest.mark.parametrize("stem", CHAPTERS)
def test_solutions_reach_full_marks_on_public_and_hidden_tests(stem):
    """Each solution passes every test, judged as a grader would: results encoded, sent, decoded, compared."""
    bundle = _bundle(stem)
    solutions = run_source(ROOT / "exercises" / "source" / f"{stem}.ipynb")
    points = 0
    for question in bundle["questions"]:
        answer = solutions[question["name"]]["solution"]
        for test in question["tests"]:
            sent = fmt.dump_json(fmt.encode(fmt.run_test(answer, test, kind=question["kind"])))
            received = fmt.decode(json.loads(sent))
            outcome = fmt.compare(
                received,
                fmt.decode(test["expected"]),
                rtol=test["rtol"],
                atol=test["atol"],
                names=question["returns"],
            )
            assert outcome, (test["id"], outcome.lines)
        assert any(t["visibility"] == "hidden" for t in question["tests"]), question["name"]
        points += question["points"]
    assert points == bundle["total_points"]


@pytest.mark.parametrize("stem", CHAPTERS)
def test_source_notebook_checks_pass_and_summary_gives_full_marks(stem):
    nb = json.loads((ROOT / "exercises" / "source" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    _, outputs = _run_cells(_code_cells(nb), f"source {stem}")
    text = "".join(outputs)
    n = len(_bundle(stem)["questions"])
    assert text.count(": passes its") == n
    total = _bundle(stem)["total_points"]
    assert f"{n} of {n} questions pass their public tests ({total} of {total} points)." in text
    # the saved outputs (compared by nbval where marked) say the same
    saved = "".join(
        "".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]
    )
    assert saved.count(": passes its") == n and f"{n} of {n} questions pass" in saved


@pytest.mark.parametrize("stem", CHAPTERS)
def test_student_notebook_runs_and_every_question_says_not_answered_yet(stem):
    nb = json.loads((ROOT / "exercises" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"] == {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    _, outputs = _run_cells(_code_cells(nb), f"student {stem}")
    text = "".join(outputs)
    questions = _bundle(stem)["questions"]
    for question in questions:
        assert f"{question['name']}: not answered yet.\n" in text
    assert "Traceback" not in text
    assert f"0 of {len(questions)} questions pass their public tests" in text


def _solution_lines(source: dict) -> list[str]:
    lines = []
    for cell in source["cells"]:
        if not any(t.startswith("question:") for t in cell.get("metadata", {}).get("tags", [])):
            continue
        inside = False
        for line in "".join(cell["source"]).splitlines():
            if line.strip() in (BEGIN, END):
                inside = line.strip() == BEGIN
            elif inside and line.strip():
                lines.append(line.strip())
            elif INLINE.match(line):
                lines.append(line.strip())
    return lines


@pytest.mark.parametrize("stem", CHAPTERS)
def test_student_notebook_holds_no_solution_line_and_no_test(stem):
    source = json.loads((ROOT / "exercises" / "source" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    text = (ROOT / "exercises" / f"{stem}.ipynb").read_text(encoding="utf-8")
    nb = json.loads(text)
    everything = text + "\n".join("".join(c["source"]) for c in nb["cells"])
    solution = _solution_lines(source)
    assert len(solution) >= 3 * 2
    for line in solution:
        assert line not in everything, line
    test_cells = [
        c
        for c in source["cells"]
        if any(t.startswith(("public:", "hidden:")) for t in c["metadata"].get("tags", []))
    ]
    assert test_cells
    for cell in test_cells:
        assert cell["id"] not in text
        for line in "".join(cell["source"]).splitlines():
            if len(line.strip()) > 12 and "import" not in line:
                assert line.strip() not in everything, line
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    assert "NBVAL" not in text and "SOLUTION" not in text


def test_public_tests_in_the_package_hold_no_hidden_test():
    for stem in CHAPTERS:
        public = json.loads((PUBLIC / f"{stem}.json").read_text(encoding="utf-8"))
        bundle = _bundle(stem)
        assert public["format"] == "nnlab-exercises" and public["format_version"] == fmt.FORMAT_VERSION
        for pq, bq in zip(public["questions"], bundle["questions"]):
            assert all(t["visibility"] == "public" for t in pq["tests"])
            hidden = [t for t in bq["tests"] if t["visibility"] == "hidden"]
            assert pq["hidden_tests"] == len(hidden) > 0
            for test in hidden:
                assert test["id"] not in json.dumps(public)


ALL_MISTAKES = [
    (stem, name, k)
    for stem in CHAPTERS
    for name, q in run_source(ROOT / "exercises" / "source" / f"{stem}.ipynb").items()
    for k in range(len(q["mistakes"]))
]


@pytest.mark.parametrize(("stem", "name", "k"), ALL_MISTAKES, ids=[f"{n}-{k}" for _, n, k in ALL_MISTAKES])
def test_each_usual_mistake_fails_with_its_hint(stem, name, k):
    wrong, hint = run_source(ROOT / "exercises" / "source" / f"{stem}.ipynb")[name]["mistakes"][k]
    out = _checked(name, wrong)
    assert "fails" in out and f"Hint: this looks like a usual mistake. {hint}" in out, out
    assert student._results[name].status == "fail"


def test_every_question_names_at_least_one_usual_mistake():
    names = {name for _, name, _ in ALL_MISTAKES}
    assert names == {q["name"] for stem in CHAPTERS for q in _bundle(stem)["questions"]}


def test_right_answer_passes():
    def gd_step(x, lam):
        return x - lam * 2 * x

    assert _checked("ch02.gd_step", gd_step) == "ch02.gd_step: passes its 3 public tests.\n"


def test_wrong_answer_shows_test_shapes_dtypes_largest_error_and_hint():
    def linear_backward(x, W, b, dout):
        return dout @ W, x.T @ dout, dout.sum(axis=0)

    out = _checked("ch03.linear_backward", linear_backward)
    assert out.splitlines()[0].startswith("ch03.linear_backward: public test 1 of 2 fails. The test called")
    assert "x=(4, 3) float64, W=(2, 3) float64" in out
    assert "dW: expected (2, 3) float64; got (3, 2) float64." in out
    assert "A missing transpose?" in out

    def sigmoid_prime(z):
        return 0.25 + 0 * z

    out = _checked("ch03.sigmoid_prime", sigmoid_prime)
    assert "public test 2 of 2 fails" in out
    assert re.search(
        r"4 of 4 entries differ \(expected \(2, 2\) float64; got \(2, 2\) float64\); the largest error is [\d.]+ at index \((0|1), (0|1)\)",
        out,
    ), out
    # wrong numbers that match no usual mistake: one line says so, and no hint guesses at a cause
    assert out.splitlines()[-1] == f"  {student._NO_MATCH}"
    assert "Hint" not in out


def test_a_wrong_shape_gets_the_shapes_and_no_unrelated_hint():
    def minibatch_gradient(X, y, w):
        return (X.T @ (X @ w - y) / len(X))[:, None]  # a column: (D, 1), not (D,)

    assert _checked("ch02.minibatch_gradient", minibatch_gradient).splitlines() == [
        "ch02.minibatch_gradient: public test 1 of 2 fails. The test called"
        " minibatch_gradient(X=(2, 2) float64, y=(2,) float64, w=(2,) float64).",
        "  expected (2,) float64; got (2, 1) float64.",
    ]
    for answer in (lambda X, y, w: None, lambda X, y, w: "grad", lambda X, y, w: (w, w)):
        out = _checked("ch02.minibatch_gradient", answer)
        assert "fails" in out and "Hint" not in out and student._NO_MATCH not in out, out
    # one part of a tuple with the wrong shape: that part's shapes are the feedback
    out = _checked("ch03.linear_backward", lambda x, W, b, dout: (dout @ W, dout.T @ x, dout))
    assert "db: expected (2,) float64; got (4, 2) float64." in out
    assert "Hint" not in out and student._NO_MATCH not in out


def test_a_matched_mistake_of_the_wrong_shape_still_gets_its_hint_alone():
    out = _checked("ch03.linear_backward", lambda x, W, b, dout: (dout @ W, x.T @ dout, dout.sum(axis=0)))
    assert out.count("Hint") == 1 and "A missing transpose?" in out
    assert student._NO_MATCH not in out


def test_the_perceptron_rule_with_z_ge_0_is_recognised():
    def perceptron_update(w, b, x, target, eta):
        y = float(w @ x + b >= 0)  # step(0) taken as 1
        return w + eta * (target - y) * x, b + eta * (target - y)

    assert _checked("ch01.perceptron_update", perceptron_update).splitlines() == [
        "ch01.perceptron_update: public test 1 of 3 fails. The test called"
        " perceptron_update(w=(2,) float64, b=0.0, x=(2,) float64, target=1.0, eta=0.5).",
        "  w: 2 of 2 entries differ (expected (2,) float64; got (2,) float64);"
        " the largest error is 0.5 at index (0,): expected 0.5, got 0.",
        "  b: expected 0.5; got 0 (a float64 number).",
        "  Hint: this looks like a usual mistake. At z = 0 the neuron answers 0: step(z) is 1 only for"
        " z > 0, so predict with z > 0, not z >= 0.",
    ]


def test_compare_tells_a_wrong_kind_of_value_from_wrong_numbers():
    want = np.array([1.0, 2.0])
    assert not fmt.compare(np.array([1.0, 3.0]), want).wrong_shape
    assert not fmt.compare(np.array([1, 3]), want).wrong_shape  # another numeric dtype: only numbers differ
    for got in (np.array([[1.0], [2.0]]), None, "12", np.array(["a", "b"]), [1.0, 2.0, 3.0]):
        outcome = fmt.compare(got, want)
        assert not outcome and outcome.wrong_shape, got
    pair = (np.array([1.0, 2.0]), 0.5)
    assert fmt.compare((want, 0.5), pair)
    assert not fmt.compare((want, 0.7), pair).wrong_shape
    assert fmt.compare((want, np.array([0.5, 0.5])), pair).wrong_shape
    assert fmt.compare((want,), pair).wrong_shape
    assert fmt.compare({"a": want}, {"a": want, "b": want}).wrong_shape
    assert not fmt.compare({"a": want + 1}, {"a": want}).wrong_shape


def test_unanswered_forms_say_not_answered_yet():
    code = (
        "def a(x, lam):\n"
        '    """doc"""\n'
        "    ...\n"
        "def b(x, lam):\n"
        "    raise NotImplementedError\n"
        "def c(x, lam):\n"
        "    y = 2 * x\n"
        "    ...\n"
    )
    namespace, _ = _run_cells([code], "unanswered")
    for answer in (namespace["a"], namespace["b"], namespace["c"], ...):
        assert _checked("ch02.gd_step", answer) == "ch02.gd_step: not answered yet.\n"


def test_forgotten_return_is_not_mistaken_for_unanswered():
    namespace, _ = _run_cells(["def gd_step(x, lam):\n    x = x - lam * 2 * x\n"], "no return")
    out = _checked("ch02.gd_step", namespace["gd_step"])
    assert "got None. Did you forget to return the result?" in out


def test_an_answer_that_raises_shows_the_students_own_line():
    code = "def gd_step(x, lam):\n    grad = 2 * x\n    return x - lam * gradient\n"
    namespace, _ = _run_cells([code], "raises")
    out = _checked("ch02.gd_step", namespace["gd_step"])
    assert out.splitlines() == [
        "ch02.gd_step: your answer raised NameError on public test 1 of 3, gd_step(x=(2,) float64, lam=0.1).",
        "  your line 3: return x - lam * gradient",
        "  NameError: name 'gradient' is not defined",
    ]


def test_summary_counts_passes_and_points():
    _checked("ch02.gd_step", lambda x, lam: x - lam * 2 * x)
    _checked("ch02.descend", lambda x0, lam, steps: None)
    _checked("ch02.bounce_lambda", ...)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        student.summary("ch02")
    assert buffer.getvalue().splitlines() == [
        "1 of 4 questions pass their public tests (1 of 6 points).",
        "  ch02.gd_step             passes",
        "  ch02.descend             fails",
        "  ch02.bounce_lambda       not answered yet",
        "  ch02.minibatch_gradient  not checked yet",
        "When your work is graded, 8 hidden tests run as well.",
    ]


def test_unknown_question_gets_a_sentence():
    out = _checked("ch09.nothing", lambda: 0)
    assert out.startswith("check does not know the question 'ch09.nothing'")


def test_importing_exercises_pulls_no_torch_matplotlib_or_widgets():
    code = (
        "import sys\n"
        "from nnlab.exercises import check, summary\n"
        "import nnlab.exercises.source, nnlab.exercises.assign\n"
        "check('ch01.neuron_output', ...)\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'ipywidgets') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["ch01.neuron_output: not answered yet.", "[]"]


def test_lecture_figures_are_in_the_public_tests():
    """The exercises reproduce the lectures' numbers: the party neuron, g(-6), (5,5) -> (4,4) -> (3.2,3.2), the NOT gate."""
    tests = {q["name"]: q["tests"] for stem in CHAPTERS for q in _bundle(stem)["questions"]}
    first = {name: fmt.decode(t[0]["expected"]) for name, t in tests.items()}
    assert first["ch01.neuron_output"].tolist() == [1, 0, 1]
    assert float(first["ch01.sigmoid_neuron"]) == pytest.approx(0.002, abs=5e-4)
    assert first["ch02.gd_step"].tolist() == [4.0, 4.0]
    np.testing.assert_allclose(first["ch02.descend"], [[5, 5], [4, 4], [3.2, 3.2]])
    assert float(first["ch04.squared_loss_grad"]) == pytest.approx(-0.0132, rel=0.01)
    assert float(first["ch04.cross_entropy_grad"]) == pytest.approx(-0.9933, rel=1e-3)


LEAKS = re.compile(r"0x[0-9a-fA-F]{6,}|/root/|/home/|/tmp/|/work/|site-packages|\.venv")


@pytest.mark.parametrize("stem", CHAPTERS)
def test_notebooks_open_in_colab_and_hold_no_machine_paths(stem):
    repository = re.search(
        r'^Repository\s*=\s*"https://github\.com/([^"]+?)/?"',
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"),
        re.M,
    )
    for path in (ROOT / "exercises" / f"{stem}.ipynb", ROOT / "exercises" / "source" / f"{stem}.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = "".join(nb["cells"][0]["source"])
        assert (
            f"colab.research.google.com/github/{repository.group(1)}/blob/main/exercises/{stem}.ipynb"
            in first
        )
        assert "google.colab" in "".join(nb["cells"][1]["source"])
        assert nb["metadata"]["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
        outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
        assert not LEAKS.search(outputs), LEAKS.search(outputs)
