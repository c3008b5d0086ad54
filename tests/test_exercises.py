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


def test_each_chapter_has_at_least_three_questions():
    assert CHAPTERS[:4] == ["01_perceptron", "02_gradient_descent", "03_backpropagation", "04_saturation"]
    for stem in CHAPTERS:
        questions = _bundle(stem)["questions"]
        assert len(questions) >= 3
        assert all(q["name"].startswith(f"ch{stem[:2]}.") for q in questions)


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
                f"{committed.relative_to(ROOT)} differs from what `nnlab assign` builds from"
                f" exercises/source/{stem}.ipynb today. If you changed the source, run"
                " tools/build_exercises.py: it overwrites this file (and anything typed into it) with a"
                " fresh build. Students answer in their own workspace (`nnlab lab`), never in the repository."
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
    # the hints are public (the notebook carries its public tests, hints included, in its metadata)
    hints = [h for q in _bundle(stem)["questions"] for h in q["hints"]]
    for cell in test_cells:
        assert cell["id"] not in text
        for line in "".join(cell["source"]).splitlines():
            if any(line.strip().strip(",").strip('"') in h for h in hints):
                continue
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
    def gd_step(x, eta):
        return x - eta * 2 * x

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
        "  Public test 2 fails too.",
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
        "def a(x, eta):\n"
        '    """doc"""\n'
        "    ...\n"
        "def b(x, eta):\n"
        "    raise NotImplementedError\n"
        "def c(x, eta):\n"
        "    y = 2 * x\n"
        "    ...\n"
    )
    namespace, _ = _run_cells([code], "unanswered")
    for answer in (namespace["a"], namespace["b"], namespace["c"], ...):
        assert _checked("ch02.gd_step", answer) == "ch02.gd_step: not answered yet.\n"


def test_forgotten_return_is_not_mistaken_for_unanswered():
    namespace, _ = _run_cells(["def gd_step(x, eta):\n    x = x - eta * 2 * x\n"], "no return")
    out = _checked("ch02.gd_step", namespace["gd_step"])
    assert "got None. Did you forget to return the result?" in out


def test_an_answer_that_raises_shows_the_students_own_line():
    code = "def gd_step(x, eta):\n    grad = 2 * x\n    return x - eta * gradient\n"
    namespace, _ = _run_cells([code], "raises")
    out = _checked("ch02.gd_step", namespace["gd_step"])
    assert out.splitlines() == [
        "ch02.gd_step: your answer raised NameError on public test 1 of 3, gd_step(x=(2,) float64, eta=0.1).",
        "  your line 3: return x - eta * gradient",
        "  NameError: name 'gradient' is not defined",
    ]


def test_summary_counts_passes_and_points():
    _checked("ch02.gd_step", lambda x, eta: x - eta * 2 * x)
    _checked("ch02.descend", lambda x0, eta, steps: None)
    _checked("ch02.bounce_eta", ...)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        student.summary("ch02")
    assert buffer.getvalue().splitlines() == [
        "1 of 5 questions pass their public tests (1 of 8 points).",
        "  ch02.gd_step             passes",
        "  ch02.descend             fails",
        "  ch02.bounce_eta          not answered yet",
        "  ch02.minibatch_gradient  not checked yet",
        "  ch02.largest_stable_lr   not checked yet",
        "When your work is graded, 27 hidden tests run as well.",
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


# ---- feedback that diagnoses the real mistake (issue 21) -------------------------------------------


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_a_mistake_is_named_only_when_it_explains_every_public_test():
    """Coincidences on one test earn no hint: 0 at z = 0 is not z(1 − z), a constant 1.0 is not 1/(2c)."""
    for coincidence in (lambda z: np.tanh(z) / 4, lambda z: z * _sigmoid(z) * (1 - _sigmoid(z))):
        out = _checked("ch03.sigmoid_prime", coincidence)
        assert "public test 1 of 2 fails" in out and "Public test 2 fails too." in out, out
        assert "Hint" not in out and "z(1 − z)" not in out, out
        assert out.splitlines()[-1] == f"  {student._NO_MATCH}"
    out = _checked("ch03.sigmoid_prime", lambda z: z * (1 - z))
    assert "Hint: this looks like a usual mistake. σ'(z) = σ(z)(1 − σ(z))" in out

    out = _checked("ch02.bounce_eta", lambda c: 1.0)  # passes c = 1, fails c = 0.5 where 1/(2c) gives 1.0 too
    assert out.splitlines() == [
        "ch02.bounce_eta: public test 2 of 3 fails. The test called bounce_eta(c=0.5).",
        "  expected 2; got 1 (a float64 number).",
        "  Public test 3 fails too.",
        f"  {student._NO_MATCH}",
    ]
    out = _checked("ch02.bounce_eta", lambda c: 0.5 / c)
    assert (
        "Public tests 2 and 3 fail too." in out and "Hint: this looks like a usual mistake. η = 1/(2c)" in out
    )


def test_a_mistake_that_passes_a_test_matches_an_answer_that_passes_it_too():
    """tanh' forgotten agrees with the right answer at z = 0: the hint still comes (the mistake explains every test)."""

    def tanh_layer_backward(x, W, b, dout):
        return dout @ W, dout.T @ x, dout.sum(axis=0)

    out = _checked("ch03.tanh_layer_backward", tanh_layer_backward)
    assert "Public test 3 fails too." in out and "The gradient passes back through tanh first" in out, out


def test_truncated_and_integer_results_are_recognised():
    out = _checked("ch02.bounce_eta", lambda c: int(1 / c))  # passes c = 1 and c = 0.5
    assert out.splitlines() == [
        "ch02.bounce_eta: public test 3 of 3 fails. The test called bounce_eta(c=4.0).",
        "  expected 0.25; got 0 (a whole number, int64).",
        "  Your answer is a whole number (int64) where the expected values have fractions: they look"
        " truncated. `//`, int(...) or an integer array (np.array([1, 2]), np.zeros(n, dtype=int)) drops the"
        " fraction; compute with floats and `/`.",
    ]
    out = _checked("ch02.bounce_eta", lambda c: 1 // c)  # float // float: whole numbers of dtype float64
    assert "Your numbers are whole where the expected values have fractions: they look truncated" in out
    assert student._NO_MATCH not in out

    def gd_step(x, eta):
        out = np.zeros(2, dtype=int)  # an integer array truncates what is written into it
        out[:] = x - eta * 2 * x
        return out

    out = _checked("ch02.gd_step", gd_step)
    assert "got (2,) int64" in out and "Your answer is an integer array (int64)" in out, out
    # a 0 where 0.25 is due is not called truncation when another failing test shows it is not
    assert "truncated" not in _checked("ch03.sigmoid_prime", lambda z: np.tanh(z) / 4)


def test_nan_and_infinity_are_named():
    with np.errstate(
        divide="ignore", invalid="ignore"
    ):  # log(0): what the student's own run would warn about
        out = _checked("ch04.cross_entropy", lambda a, y: -np.mean(y * np.log(a) + (1 - y) * np.log(a - a)))
    assert "Your answer holds NaN or infinity where the expected values are finite" in out, out
    outcome = fmt.compare(np.array([np.nan, 1.0]), np.array([1.0, 1.0]))
    assert not outcome and outcome.cause == "nonfinite" and not outcome.wrong_shape


def test_lists_and_bools_where_an_array_is_due_are_reported():
    out = _checked("ch02.gd_step", lambda x, eta: list(x - eta * 2 * x))
    assert out.splitlines()[:2] == [
        "ch02.gd_step: public test 1 of 3 fails. The test called gd_step(x=(2,) float64, eta=0.1).",
        "  expected (2,) float64; got a list of 2 numbers. Return a NumPy array, not a list: np.array(...) makes one.",
    ]
    assert "Hint" not in out and student._NO_MATCH not in out
    out = _checked("ch01.neuron_output", lambda X, w, b: X @ w + b > 0)
    assert (
        "  expected (3,) int64; got (3,) bool: True/False, not numbers. Turn a comparison into numbers,"
        " e.g. (z > 0).astype(int)."
    ) in out.splitlines()
    assert student._results["ch01.neuron_output"].status == "fail"
    out = _checked("ch01.sigmoid_neuron", lambda x, w0, W: [_sigmoid(w0 + x @ W)])
    assert (
        "  expected a float64 number; got a list of 1 number. Return a number, not a list."
        in out.splitlines()
    )
    # the same rules hold for a grader comparing decoded values
    assert fmt.compare([1.0, 2.0], np.array([1.0, 2.0])).wrong_shape
    assert fmt.compare(True, np.float64(1.0)).wrong_shape
    assert fmt.compare(np.array([True, False]), np.array([True, False]))  # bools where bools are due
    assert fmt.compare([1.0, 2.0], [1.0, 2.0])  # a list where a list is due


def test_describe_uses_plain_words_and_the_right_article():
    assert fmt.describe(np.int64(3)) == "a whole number, int64"
    assert fmt.describe(3) == "a whole number, int64"
    assert fmt.describe(np.float64(0.5)) == "a float64 number"
    assert fmt.describe(np.array(None, dtype=object)) == "a Python object"
    assert fmt.describe(np.array([None, 1], dtype=object)) == "(2,) array of Python objects"
    assert fmt.describe(True) == "a bool, True or False"
    assert fmt.describe([0.5]) == "a list of 1 number"
    assert fmt.describe([]) == "a list of 0 items"
    assert fmt.describe((np.zeros(2), 1.0, 2.0)) == "a tuple of 3 items"
    assert fmt.describe("x") == "a string" and fmt.describe(None) == "None"
    assert fmt.describe(object()) == "an object object"
    assert fmt.describe(np.zeros((4, 3))) == "(4, 3) float64" and fmt.describe(np.zeros(1)) == "(1,) float64"
    text = " ".join(
        fmt.describe(v) for v in (np.int32(1), np.uint8(1), np.complex128(1j), np.array(1, dtype=object), {})
    )
    assert not re.search(r"\ba [aeiou]", text) and "a int" not in text and "a object" not in text, text
    assert fmt.compare(np.zeros(1), np.zeros(2)).lines == ["expected (2,) float64; got (1,) float64."]
    assert "1 of 1 entry differs" in fmt.compare(np.ones(1), np.zeros(1)).lines[0]


def test_an_answer_that_changes_its_inputs_in_place_is_told_so():
    def perceptron_update(w, b, x, target, eta):
        y = float(w @ x + b > 0)
        w += eta * (target - y) * x  # changes the caller's w
        return w, b + eta * (target - y)

    out = _checked("ch01.perceptron_update", perceptron_update)
    assert out.splitlines() == [
        "ch01.perceptron_update: your answer gives the right values but changes its input w in place"
        " (public test 1 of 3, perceptron_update(w=(2,) float64, b=0.0, x=(2,) float64, target=1.0, eta=0.5)).",
        "  `w += ...`, `w -= ...` or `w[...] = ...` write into the array the caller passed in, so the"
        " caller's data changes too. Work on a new array: w = w + ..., or w = w.copy() first.",
    ]
    assert student._results["ch01.perceptron_update"].status == "fail"

    def gd_step(x, eta):
        x += eta * 2 * x  # wrong sign, and in place
        return x

    out = _checked("ch02.gd_step", gd_step)
    assert "Hint: this looks like a usual mistake. Step against the gradient" in out
    assert out.splitlines()[-1].startswith("  Your answer also changes its input x in place: `x += ...`")

    def positional(*args):  # names unknown: the argument's number is given
        args[0][...] = 0.0
        return np.asarray(args[0]) * 0 + 1 / args[0].size

    assert "changes its input" in _checked("ch02.gd_step", lambda x, eta: positional(x, eta))


def test_every_question_has_three_hidden_tests_and_every_mistake_fails_one():
    """The hidden tests catch every usual mistake (z >= 0 in chapter 1 included) and int(1/c)."""
    for stem in CHAPTERS:
        sources = run_source(ROOT / "exercises" / "source" / f"{stem}.ipynb")
        for question in _bundle(stem)["questions"]:
            hidden = [t for t in question["tests"] if t["visibility"] == "hidden"]
            assert len(hidden) >= 3, question["name"]
            wrong = [w for w, _ in sources[question["name"]]["mistakes"]]
            if question["name"] == "ch02.bounce_eta":
                wrong += [lambda c: int(1 / c), lambda c: 1 // c, lambda c: np.floor(1 / c)]
            for answer in wrong:
                assert any(not _passes(answer, question, t) for t in hidden), question["name"]


def _passes(answer, question: dict, test: dict) -> bool:
    try:
        with np.errstate(all="ignore"):  # a mistake may divide by a zero weight
            got = fmt.run_test(answer, test, kind=question["kind"])
    except Exception:
        return False
    expected = fmt.decode(test["expected"])
    return bool(fmt.compare(got, expected, rtol=test["rtol"], atol=test["atol"], names=question["returns"]))


def test_chapter_one_hidden_tests_hold_z_equal_to_zero():
    for name in ("ch01.neuron_output", "ch01.perceptron_update"):
        question = next(q for q in _bundle("01_perceptron")["questions"] if q["name"] == name)
        zs = []
        for test in (t for t in question["tests"] if t["visibility"] == "hidden"):
            kw = fmt.decode(test["kwargs"])
            zs.append(kw["X"] @ kw["w"] + kw["b"] if "X" in kw else kw["w"] @ kw["x"] + kw["b"])
        assert any(np.any(np.asarray(z) == 0) for z in zs), name


DERIVE = re.compile(r"^## \d+\. .*\((derive|predict|choose)\)\s*$", re.M)


@pytest.mark.parametrize("stem", CHAPTERS[:4])
def test_each_notebook_asks_to_derive_predict_or_choose(stem):
    """Besides the warm-ups that transcribe a formula, each notebook has a question whose formula it does not give."""
    nb = json.loads((ROOT / "exercises" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    cells = nb["cells"]
    asked = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and DERIVE.search("".join(cell["source"])):
            question = next(c for c in cells[i + 1 :] if c["cell_type"] == "code")
            tag = next(t for t in question["metadata"]["tags"] if t.startswith("question:"))
            asked.append(tag.split(":", 1)[1])
    assert asked, stem
    names = [q["name"] for q in _bundle(stem)["questions"]]
    assert set(asked) <= set(names) and len(names) - len(asked) >= 3


# ---- check() and summary() read the notebook's own questions (issue 19) -----------------------------


def _source_with_an_added_question(tmp_path: Path) -> Path:
    source = json.loads(
        (ROOT / "exercises" / "source" / "02_gradient_descent.ipynb").read_text(encoding="utf-8")
    )

    def code(cell_id: str, tag: str, text: str) -> dict:
        tags = [tag, "points:3"] if tag.startswith("question:") else [tag]
        return {
            "cell_type": "code",
            "id": cell_id,
            "metadata": {"tags": tags},
            "execution_count": None,
            "outputs": [],
            "source": text,
        }

    at = next(i for i, c in enumerate(source["cells"]) if c["id"] == "02-21")
    source["cells"][at:at] = [
        code(
            "q-two-steps",
            "question:ch02.two_steps",
            "def two_steps(x, eta):\n    ### BEGIN SOLUTION\n    return gd_step(gd_step(x, eta), eta)\n"
            '    ### END SOLUTION\n\n\ncheck("ch02.two_steps", two_steps)\n',
        ),
        code(
            "public-two-steps",
            "public:ch02.two_steps",
            "from nnlab.exercises import case, mistake\n\ncase(x=np.array([5.0, 5.0]), eta=0.1)\n"
            'mistake(lambda x, eta: x - eta * 2 * x, "Two steps, not one.")\n',
        ),
        code("hidden-two-steps", "hidden:ch02.two_steps", "case(x=np.array([1.0, 2.0]), eta=0.2)\n"),
    ]
    path = tmp_path / "course" / "02_gradient_descent.ipynb"
    path.parent.mkdir()
    path.write_text(json.dumps(source), encoding="utf-8")
    assign([path], tmp_path / "out")
    return tmp_path / "out"


def _summary(exercise: str) -> list[str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        student.summary(exercise)
    return buffer.getvalue().splitlines()


def test_student_notebook_carries_its_public_tests():
    for stem in CHAPTERS:
        nb = json.loads((ROOT / "exercises" / f"{stem}.ipynb").read_text(encoding="utf-8"))
        public = json.loads((PUBLIC / f"{stem}.json").read_text(encoding="utf-8"))
        carried = nb["metadata"]["nnlab"]["questions"]
        assert [q["name"] for q in carried] == [q["name"] for q in public["questions"]]
        for mine, theirs in zip(carried, public["questions"]):
            assert [t["id"] for t in mine["tests"]] == [t["id"] for t in theirs["tests"]]
            assert all("cell_id" not in t and "visibility" not in t for t in mine["tests"])
            assert mine["graded_tests"] == theirs["hidden_tests"] and mine["hints"] == theirs["hints"]
            assert "hidden_tests" not in mine


def test_a_question_added_to_a_source_is_known_to_check_and_summary(tmp_path, monkeypatch):
    out = _source_with_an_added_question(tmp_path)
    # outside the notebook's folder this nnlab does not know the question
    assert _checked("ch02.two_steps", lambda x, eta: x).startswith("check does not know the question")
    monkeypatch.chdir(out)
    assert _checked("ch02.two_steps", lambda x, eta: (1 - 2 * eta) ** 2 * x) == (
        "ch02.two_steps: passes its 1 public test.\n"
    )
    assert "Hint: this looks like a usual mistake. Two steps, not one." in _checked(
        "ch02.two_steps", lambda x, eta: x - eta * 2 * x
    )
    _checked("ch02.gd_step", lambda x, eta: x - eta * 2 * x)
    lines = _summary("ch02")
    assert lines[0] == "1 of 6 questions pass their public tests (1 of 11 points)."
    assert lines[-2:] == [
        "  ch02.two_steps           fails",
        "When your work is graded, 28 hidden tests run as well.",
    ]


def test_the_notebook_named_by_jupyter_wins(tmp_path, monkeypatch):
    out = _source_with_an_added_question(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("JPY_SESSION_NAME", str(out / "02_gradient_descent.ipynb"))
    assert _checked("ch02.two_steps", lambda x, eta: x).startswith(
        "ch02.two_steps: public test 1 of 1 fails."
    )
    assert _summary("ch02")[0].startswith("0 of 6 questions")


def test_a_kernel_running_the_student_notebook_knows_its_added_question(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    out = _source_with_an_added_question(tmp_path)
    nb = nbformat.read(out / "02_gradient_descent.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(out)}}
    ).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "ch02.two_steps: not answered yet." in text and "does not know" not in text
    assert "0 of 6 questions pass their public tests (0 of 11 points)." in text


def test_a_renamed_argument_gets_a_sentence():
    """The tests call with keywords: an answer whose def line renames an argument is told which names to keep."""
    out = _checked("ch02.gd_step", lambda x, lam: x - lam * 2 * x)
    assert out.splitlines()[-1] == (
        "  The tests call gd_step with the argument names of the notebook's def line (x, eta): keep those names."
    )
