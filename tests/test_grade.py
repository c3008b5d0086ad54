"""``nnlab grade``: what the sandbox isolates, how returned data is checked, the files it writes, Gradescope.

The hostile submissions are in ``tests/test_grade_hostile.py``; these tests grade small notebooks made
here from the demo exercise in ``tests/grading/demo_source.ipynb``.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnlab import cli
from nnlab.grading import grader
from nnlab.grading.sandbox import Limits

HERE = Path(__file__).resolve().parent / "grading"
ROOT = Path(__file__).resolve().parents[1]
FAST = Limits(timeout=5, memory_mb=1024)
IS_ROOT = os.name == "posix" and os.geteuid() == 0


def build(folder: Path, *extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    status = cli.main(["assign", str(HERE / "demo_source.ipynb"), "--out", str(folder), *extra])
    assert status == 0
    bundle = folder / "autograder" / "demo_source.json"
    os.chmod(bundle, 0o600)
    return bundle


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("grade")
    os.chmod(root, 0o700)
    with contextlib.redirect_stdout(io.StringIO()):
        bundle = build(root / "assign")
    student = json.loads((root / "assign" / "demo_source.ipynb").read_text(encoding="utf-8"))
    return {"root": root, "bundle": bundle, "student": student}


def submission(student: dict, answers: dict[str, str]) -> dict:
    nb = json.loads(json.dumps(student))
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        name = next((t[9:] for t in tags if t.startswith("question:")), None)
        if name in answers:
            cell["source"] = answers[name]
    return nb


HONEST = {
    "demo.double": "def double(x):\n    return 2 * x\n",
    "demo.square": "def square(x):\n    return x * x\n",
    "demo.lam": "lam = 0.25\n",
}


def write(folder: Path, name: str, nb: dict | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    else:
        path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_the_student_process_is_isolated(demo, tmp_path):
    """A probe answer reports what it can see: user, bundle, results folder, network, environment, modules."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    probe = f"""
import json, os, resource, socket, sys
def double(x):
    facts = {{"uid": os.getuid(), "cwd": os.getcwd(), "env": sorted(os.environ), "stdin": os.read(0, 10).decode()}}
    facts["blas"] = os.environ.get("OPENBLAS_NUM_THREADS")
    facts["nnp"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")]
    facts["limits"] = [resource.getrlimit(getattr(resource, "RLIMIT_" + n))[0] for n in ("CPU", "AS", "FSIZE", "NPROC")]
    for key, path in (("bundle", {str(demo["bundle"])!r}), ("out", {str(tmp_path / "out")!r})):
        try:
            open(path).read() if key == "bundle" else os.listdir(path)
            facts[key] = "readable"
        except OSError as exc:
            facts[key] = type(exc).__name__
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
        facts["network"] = "connected"
    except OSError:
        facts["network"] = "no network"
    facts["modules"] = sorted(m for m in sys.modules if m.startswith("nnlab"))
    return json.dumps(facts)
"""
    path = write(tmp_path / "in", "probe", submission(demo["student"], {**HONEST, "demo.double": probe}))
    try:
        [row] = grader.grade(demo["bundle"], [path], tmp_path / "out", limits=FAST, progress=False)
    finally:
        listener.close()
    assert row.score == 2  # the probe's answer is wrong; the two honest answers beside it score
    event = json.loads((tmp_path / "out" / "probe" / "raw" / "demo.double.jsonl").read_text().splitlines()[1])
    facts = json.loads(event["value"])
    assert facts["stdin"] == "" and facts["blas"] == "1" and facts["nnp"] == ["1"]
    cpu, memory, file_size, processes = facts["limits"]
    assert (cpu, memory, file_size) == (6, 1024 * 2**20, 32 * 2**20) and 0 < processes < 10_000
    assert set(facts["env"]) <= {*grader_env_names()}
    assert facts["cwd"].startswith(("/tmp", os.environ.get("TMPDIR", "/tmp")))
    assert facts["modules"] == ["nnlab", "nnlab.exercises"]  # the stub: no exercise code, no expected value
    report = json.loads((tmp_path / "out" / "probe" / "raw" / "grader.json").read_text())["questions"][0][
        "report"
    ]
    if report["network_isolated"]:
        assert facts["network"] == "no network"
    if IS_ROOT:
        from nnlab.grading.sandbox import UID_BASE, UID_SPAN

        assert UID_BASE <= facts["uid"] < UID_BASE + UID_SPAN  # an id of its own, no account's
        assert facts["bundle"] == "PermissionError"
        assert facts["out"] == "PermissionError"
        assert report["network_isolated"], "root can always make a network namespace here"


def grader_env_names() -> list[str]:
    from nnlab.grading.sandbox import _environment

    return list(_environment(Path("/tmp")))


@pytest.mark.skipif(
    not IS_ROOT, reason="the permission that stops this cheat exists only when the grader is root"
)
def test_the_bundle_cheat_works_only_where_the_bundle_is_readable(demo, tmp_path):
    """The hostile 'reads_bundle' case is a real cheat: it finds a world-readable bundle on the grader's
    command line and scores full marks; the grader warns. (Graded 0 when the bundle is private.)"""
    import shutil
    import tempfile

    public = Path(tempfile.mkdtemp(prefix="nnlab-open-bundle-"))
    try:
        os.chmod(public, 0o755)
        open_bundle = public / "demo.json"
        open_bundle.write_bytes(demo["bundle"].read_bytes())
        os.chmod(open_bundle, 0o644)
        cheat = HERE / "submissions" / "reads_bundle.ipynb"
        command = [
            sys.executable,
            "-m",
            "nnlab",
            "grade",
            str(open_bundle),
            str(cheat),
            "--out",
            str(tmp_path / "out"),
        ]
        proc = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "NNLAB_PROGRESS": "0"}
        )
    finally:
        shutil.rmtree(public)
    assert proc.returncode == 0, proc.stderr
    assert "readable by every user" in proc.stderr
    assert (tmp_path / "out" / "grades.csv").read_text().splitlines()[1].startswith("reads_bundle,4,4,ok")


@pytest.mark.skipif(not IS_ROOT, reason="the grader checks permissions only when it drops to nobody")
def test_a_bundle_or_class_folder_open_to_everyone_gets_a_warning(tmp_path):
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="nnlab-open-class-"))
    try:
        os.chmod(folder, 0o755)
        files = [folder / name for name in ("bundle.json", "a.ipynb", "b.ipynb")]
        for file in files:
            file.write_text("{}")
            os.chmod(file, 0o644)
        warnings = grader._warnings(files[0], files[1:])
        assert [w.split(" is ")[0].split(" are ")[0] for w in warnings] == [
            f"nnlab grade: warning: {files[0]}",
            f"nnlab grade: warning: 2 submissions (e.g. {files[1]})",
        ]
        os.chmod(folder, 0o711)  # others may pass through, but the files are private now
        for file in files:
            os.chmod(file, 0o600)
        assert grader._warnings(files[0], files[1:]) == []
    finally:
        shutil.rmtree(folder)


def test_answers_are_found_by_cell_id_then_by_tag_never_by_position():
    questions = [
        {"name": "s.a", "cell_id": "qa"},
        {"name": "s.b", "cell_id": "qb"},
        {"name": "s.c", "cell_id": "qc"},
    ]
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "id": "other",
                "metadata": {"tags": ["question:s.b"]},
                "source": ["b = 2\n"],
            },
            {"cell_type": "markdown", "id": "qc", "metadata": {}, "source": "c = 3"},
            {"cell_type": "code", "id": "qa", "metadata": {}, "source": "a = 1\n"},
            {"cell_type": "code", "metadata": "not a dict", "source": 5},
        ]
    }
    assert grader.find_answers(nb, questions) == {"s.a": "a = 1\n", "s.b": "b = 2\n"}


def _array(arr: np.ndarray) -> dict:
    return {
        "__array__": base64.b64encode(arr.tobytes()).decode(),
        "dtype": arr.dtype.str,
        "shape": list(arr.shape),
    }


def test_the_runner_sends_values_back_exactly_and_refuses_lookalikes():
    from nnlab.grading import _runner

    class Liar(np.ndarray):
        pass

    class Number(float):
        pass

    values = [
        np.float64(0.25),  # a 0-d result stays 0-d
        np.array(0.5),
        np.arange(6.0).reshape(2, 3).T,  # a transposed view
        np.asfortranarray(np.arange(6, dtype=np.int32).reshape(3, 2)),
        np.array([True, False]),
        (1, 2.5, None, "s", [np.float32(1.5)]),
        {"a": float("inf")},
    ]
    for value in values:
        back = grader.decode_result(json.loads(json.dumps(_runner.encode_result(value), allow_nan=False)))
        if isinstance(value, np.generic | np.ndarray):
            assert type(back) is np.ndarray and back.shape == np.shape(value) and back.dtype == value.dtype
            assert np.array_equal(back, value)
        else:
            assert repr(back) == repr(value) or back == value
    for lookalike in (np.zeros(2).view(Liar), Number(1.0), object(), np.array([1j]), np.array(["s"])):
        assert isinstance(grader.decode_result(_runner.encode_result(lookalike)), grader.Unsupported)


def test_returned_data_is_checked_before_any_comparison():
    good = grader.decode_result(
        {"__tuple__": [_array(np.arange(6.0).reshape(2, 3)), 3, {"__float__": "nan"}]}
    )
    assert type(good[0]) is np.ndarray and good[0].tolist() == [[0, 1, 2], [3, 4, 5]] and np.isnan(good[2])
    bad = [
        {**_array(np.arange(3.0)), "dtype": "|O"},  # object dtype: would unpickle
        {**_array(np.arange(3.0)), "shape": [4]},  # bytes that do not match the shape
        {**_array(np.arange(3.0)), "shape": [-3]},
        {"__array__": "!!", "dtype": "<f8", "shape": [1]},
        {"__class__": "Liar"},
        {"__tuple__": "not a list"},
        {"__float__": "1e999"},
    ]
    for data in bad:
        with pytest.raises((grader.BadResult, ValueError)):
            grader.decode_result(data)
    nested = 1.0
    for _ in range(30):
        nested = [nested]
    with pytest.raises(grader.BadResult):
        grader.decode_result(nested)


def test_judge_names_the_kind_of_failure_and_hides_hidden_values():
    question = {"returns": None}
    test = {
        "expected": {"__ndarray__": [2.0, 4.0], "dtype": "float64", "shape": [2]},
        "rtol": 1e-5,
        "atol": 1e-8,
    }
    assert grader.judge(np.array([2.0, 4.0]), test, question, reveal=True) == (True, "passed", [])
    assert grader.judge(np.array([np.nan, 4.0]), test, question, reveal=True)[1] == "NaN or infinity"
    assert grader.judge(grader.Unsupported("a Liar"), test, question, reveal=True)[1] == "wrong kind of value"
    assert grader.judge(3.0, test, question, reveal=True)[1] == "wrong kind of value"
    passed, kind, lines = grader.judge(np.array([2.0, 5.5]), test, question, reveal=False)
    assert (
        (passed, kind) == (False, "wrong values")
        and "4.0" not in " ".join(lines)
        and " 4" not in " ".join(lines)
    )
    assert "4" in " ".join(grader.judge(np.array([2.0, 5.5]), test, question, reveal=True)[2])


def test_points_are_shared_over_a_questions_tests_or_by_their_weights():
    question = {
        "name": "s.q",
        "points": 3,
        "kind": "function",
        "answer": "f",
        "cell_id": "c",
        "tests": [
            {"id": f"s.q/public/{k}", "visibility": "public", "expected": k, "rtol": 0, "atol": 0}
            for k in (1, 2, 3)
        ],
    }
    events = [{"event": "cells_done", "errors": []}] + [
        {"event": "test", "index": k, "value": value} for k, value in enumerate([1, 2, 0])
    ]
    events.append({"event": "done"})
    report = {"returncode": 0, "signal": None, "timed_out": False}
    assert grader.grade_question(question, events, report, None, FAST)["score"] == 2
    question["tests"][2]["weight"] = 2  # the failing test now counts half of the question
    graded = grader.grade_question(question, events, report, None, FAST)
    assert graded["score"] == 1.5 and graded["status"] == "2 of 3 tests pass (wrong values)"


def test_results_feedback_grades_csv_rerun_and_force(demo, tmp_path, capsys):
    folder = tmp_path / "class"
    write(folder, "ada", submission(demo["student"], HONEST))
    write(
        folder,
        "bob",
        submission(demo["student"], {**HONEST, "demo.double": "def double(x):\n    return x + x + 1\n"}),
    )
    write(folder, "cy", b"")
    (folder / "dee").mkdir()
    write(folder / "dee", "my_work", submission(demo["student"], {**HONEST, "demo.lam": "lam = 0.5\n"}))
    out = tmp_path / "out"
    (out / "ada").mkdir(parents=True)
    (out / "ada" / "results.json").write_text(
        '{"score": 1000}'
    )  # a file already at a result path is replaced
    status = cli.main(
        ["grade", str(demo["bundle"]), str(folder), "--out", str(out), "--jobs", "2", "--timeout", "5"]
    )
    assert status == 0
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert [(r["submission"], r["score"], r["max_score"]) for r in rows] == [
        ("ada", "4", "4"),
        ("bob", "2", "4"),
        ("cy", "0", "4"),
        ("dee", "3", "4"),
    ]
    assert rows[0]["status"] == "ok" and rows[2]["status"] == "not a notebook: the file is empty"
    assert rows[1]["status"] == "demo.double: 0 of 4 tests pass (wrong values)"
    results = json.loads((out / "ada" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 4 and {"execution_time", "output", "tests"} <= set(results)
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in results["tests"]] == [
        ("demo.double", 2.0, 2, "passed"),
        ("demo.square", 1.0, 1, "passed"),
        ("demo.lam", 1.0, 1, "passed"),
    ]
    feedback = (out / "bob" / "feedback.md").read_text(encoding="utf-8")
    assert (
        "public test 1 of 2 fails: wrong values" in feedback
        and "hidden test 1 of 2 fails: wrong values." in feedback
    )
    lam = (out / "dee" / "feedback.md").read_text(encoding="utf-8")
    assert "demo.lam: 0 of 1 points" in lam and "0.25" not in lam  # a value question's answer never shows
    assert not [p for p in out.rglob(".*") if p.is_file()]  # no temporary file left by the atomic writes
    assert sorted(p.name for p in (out / "bob" / "raw").iterdir()) == [  # hidden tests run apart
        "demo.double.hidden.jsonl",
        "demo.double.hidden.log",
        "demo.double.jsonl",
        "demo.double.log",
        "demo.lam.jsonl",
        "demo.lam.log",
        "demo.square.hidden.jsonl",
        "demo.square.hidden.log",
        "demo.square.jsonl",
        "demo.square.log",
        "grader.json",
    ]
    before = (out / "bob" / "results.json").stat().st_mtime_ns
    capsys.readouterr()
    assert cli.main(["grade", str(demo["bundle"]), str(folder), "--out", str(out)]) == 0
    assert "graded 0 submission(s), skipped 4 already graded" in capsys.readouterr().out
    assert (out / "bob" / "results.json").stat().st_mtime_ns == before
    assert len(list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))) == 4
    one = [str(folder / "bob.ipynb"), "--out", str(out), "--force"]  # one submission re-graded alone
    assert cli.main(["grade", str(demo["bundle"]), *one]) == 0
    assert "graded 1 submission(s)" in capsys.readouterr().out
    assert (out / "bob" / "results.json").stat().st_mtime_ns != before


def test_usage_errors_get_a_sentence_and_status_2(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "nope.json"), str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "nnlab grade: the bundle" in capsys.readouterr().err
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"format": "nnlab-exercises", "format_version": 1, "questions": []}))
    assert cli.main(["grade", str(old), str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "rebuild it with nnlab assign" in capsys.readouterr().err
    assert cli.main(["grade", str(old), str(tmp_path / "missing.ipynb"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_crash_in_one_question_costs_that_question_only(demo, tmp_path):
    answers = {**HONEST, "demo.square": "import os\ndef square(x):\n    os.kill(os.getpid(), 9)\n"}
    path = write(tmp_path, "killed", submission(demo["student"], answers))
    [row] = grader.grade(demo["bundle"], [path], tmp_path / "out", limits=FAST, progress=False)
    assert row.score == 3
    assert row.status == "demo.square: 0 of 2 tests pass (killed by signal SIGKILL)"


def test_gradescope_autograder_runs_in_a_gradescope_like_folder(demo, tmp_path):
    with contextlib.redirect_stdout(io.StringIO()):
        build(tmp_path / "assign", "--gradescope")
    archive = zipfile.ZipFile(tmp_path / "assign" / "autograder.zip")
    assert sorted(archive.namelist()) == ["bundles/demo_source.json", "run_autograder", "setup.sh"]
    setup = archive.read("setup.sh").decode()
    assert "pip install" in setup and "nnlab==" in setup and "chmod 700 /autograder/source" in setup
    run = archive.read("run_autograder").decode()
    assert "--memory 768" in run and "--jobs 1" in run
    root = tmp_path / "autograder"  # Gradescope's layout: source/ (the zip), submission/, results/
    archive.extractall(root / "source")
    write(
        root / "submission", "demo_source", submission(demo["student"], {**HONEST, "demo.lam": "lam = 1\n"})
    )
    for script in ("setup.sh", "run_autograder"):
        assert subprocess.run(["bash", "-n", str(root / "source" / script)]).returncode == 0
    env = {
        **os.environ,
        "NNLAB_GRADESCOPE_ROOT": str(root),
        "NNLAB_COMMAND": f"{sys.executable} -m nnlab",
    }
    proc = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 3
    assert [t["status"] for t in results["tests"]] == ["passed", "passed", "failed"]
    assert "0.25" not in json.dumps(results["tests"])  # the value question's answer stays out


def test_the_package_builds_the_same_zip_twice(tmp_path):
    from nnlab.grading.gradescope import autograder_zip

    bundle = json.dumps({"questions": [{"name": "a.b"}]})
    assert autograder_zip({"a.json": bundle}) == autograder_zip({"a.json": bundle})


BOOK_EXERCISES = sorted(p.stem for p in (ROOT / "exercises" / "autograder").glob("*.json"))


@pytest.mark.parametrize("exercise", BOOK_EXERCISES)
def test_the_books_solutions_score_full_marks_and_its_blank_notebook_zero(exercise, tmp_path):
    """The book's own exercises, graded as committed: the source's answer cells get every point."""
    bundle = ROOT / "exercises" / "autograder" / f"{exercise}.json"
    student = json.loads((ROOT / "exercises" / f"{exercise}.ipynb").read_text(encoding="utf-8"))
    source = json.loads((ROOT / "exercises" / "source" / f"{exercise}.ipynb").read_text(encoding="utf-8"))
    solutions = {c.get("id"): c["source"] for c in source["cells"] if c.get("cell_type") == "code"}
    solved = json.loads(json.dumps(student))
    for cell in solved["cells"]:
        if any(t.startswith("question:") for t in cell.get("metadata", {}).get("tags", [])):
            cell["source"] = solutions[cell["id"]]
    write(tmp_path / "in", "solved", solved)
    write(tmp_path / "in", "blank", student)
    with contextlib.redirect_stderr(io.StringIO()):  # the committed bundle is world-readable: a warning
        solved_row, blank_row = grader.grade(
            bundle,
            [tmp_path / "in" / "solved.ipynb", tmp_path / "in" / "blank.ipynb"],
            tmp_path / "out",
            jobs=2,
            limits=Limits(timeout=60),
            progress=False,
        )
    assert (solved_row.score, solved_row.status) == (solved_row.max_score, "ok")
    assert blank_row.score == 0  # a blank answer returning None earns nothing, even where None is expected
    assert all(q["status"].endswith("(not answered yet)") for q in blank_row.questions), blank_row.status


def test_an_ordinary_user_grades_without_dropping_privileges(demo, tmp_path, monkeypatch):
    """The path a grader not running as root takes: no user switch; the limits and the timeout still hold."""
    from nnlab.grading import sandbox

    monkeypatch.setattr(sandbox, "unprivileged_user", lambda: None)
    monkeypatch.setattr(grader, "unprivileged_user", lambda: None)
    answers = {**HONEST, "demo.square": "import os\ndef square(x):\n    while True:\n        pass\n"}
    path = write(tmp_path, "loops", submission(demo["student"], answers))
    [row] = grader.grade(demo["bundle"], [path], tmp_path / "out", limits=Limits(timeout=3), progress=False)
    assert (row.score, row.status) == (3, "demo.square: 0 of 2 tests pass (time limit (3 s))")


def test_the_results_folder_among_the_submissions_is_not_a_submission(demo, tmp_path):
    write(tmp_path / "class", "ada", submission(demo["student"], HONEST))
    out = tmp_path / "class" / "graded"
    for _ in range(2):
        rows = grader.grade(
            demo["bundle"], [tmp_path / "class"], out, limits=FAST, progress=False, force=True
        )
        assert [r.submission for r in rows] == ["ada"]


def test_the_progress_bar_follows_nnlab_progress(demo, tmp_path, monkeypatch, capsys):
    write(tmp_path / "in", "empty", b"")  # a file that is not a notebook: graded without a sandbox
    for setting, shown in (("0", False), ("1", True)):
        monkeypatch.setenv("NNLAB_PROGRESS", setting)
        grader.grade(demo["bundle"], [tmp_path / "in"], tmp_path / f"out{setting}", limits=FAST)
        assert ("grading: 100%" in capsys.readouterr().err) is shown


# --- found by the adversarial review --------------------------------------------------------------


def _one_run(source: str, folder: Path, name: str) -> tuple[dict, list[dict]]:
    """One sandbox run of a notebook of one cell defining ``f``, called once without arguments."""
    from nnlab.grading.sandbox import run

    request = {
        "cells": [{"id": "c", "source": source, "origin": "answer"}],
        "question": {"name": "q", "answer": "f", "kind": "function"},
        "tests": [{"args": [], "kwargs": {"__dict__": {}}}],
        "preload": ["signal"],  # loaded before the drop, as the grader preloads what cells import
    }
    result = folder / f"{name}.jsonl"
    report = run(request, limits=FAST, log=folder / f"{name}.log", result=result)
    return report, grader._parse_events(result)[0]


@pytest.mark.skipif(not IS_ROOT, reason="as an ordinary user kill(-1) would reach the test run itself")
def test_a_submission_cannot_signal_another_graded_beside_it(tmp_path):
    """Each run has a user id of its own: ``kill(-1, SIGKILL)`` ends only the killer's own processes."""
    from concurrent.futures import ThreadPoolExecutor

    os.chmod(tmp_path, 0o700)
    victim = "import os, time\ndef f():\n    time.sleep(2)\n    return [os.getuid(), 1.0]\n"
    killer = (
        "import os, signal, time\ntime.sleep(0.5)\nos.kill(-1, signal.SIGKILL)\ndef f():\n    return 0.0\n"
    )
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_one_run, victim, tmp_path, "victim")
        second = pool.submit(_one_run, killer, tmp_path, "killer")
        (report, events), _ = first.result(), second.result()
    assert report["signal"] is None, report  # the killer's signal did not reach the run beside it
    uid, value = next(e for e in events if e.get("event") == "test")["value"]
    assert value == 1.0 and uid != os.getuid()


def test_forged_result_lines_cost_only_the_forger(tmp_path):
    """Lines written before the runner's "cells_done", or before a test's own record, are dropped."""
    path = tmp_path / "result.jsonl"
    lines = [
        {"event": "test", "index": 0, "value": 99.0},
        {"event": "done"},
        "[" * 100_000,
        {"event": "cells_done", "errors": []},
        {"event": "test", "index": 0, "value": 1.0},
        {"event": "test", "index": 1, "value": 99.0},
        {"event": "test", "index": 1, "value": 2.0},
        {"event": "done"},
    ]
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    events, problem = grader._parse_events(path)
    assert events[0] == {"event": "cells_done", "errors": []} and problem is not None
    question = {
        "name": "s.q",
        "points": 2,
        "kind": "function",
        "answer": "f",
        "cell_id": "c",
        "tests": [
            {"id": f"s.q/public/{k}", "visibility": "public", "expected": k, "rtol": 0, "atol": 0}
            for k in (1.0, 2.0)
        ],
    }
    report = {"returncode": 0, "signal": None, "timed_out": False}
    assert grader.grade_question(question, events, report, problem, FAST)["score"] == 2


def test_an_exception_class_of_the_students_own_is_not_named_in_feedback():
    assert grader.exception_name("ValueError") == "ValueError"
    assert grader.exception_name("KeyboardInterrupt") == "KeyboardInterrupt"
    for name in ("Leak[1.25, -0.5]", "MyError", None, 3):
        assert grader.exception_name(name) == "an exception of its own class"


def test_an_answer_that_changes_its_input_in_place_fails_as_check_says():
    x = {"__ndarray__": [1.0, 2.0], "dtype": "float64", "shape": [2]}
    test = {"args": [x], "kwargs": {"__dict__": {"y": x}}}
    same = _array(np.array([1.0, 2.0]))
    changed = _array(np.array([2.0, 4.0]))

    def record(args, kwargs):
        return {"inputs": {"__dict__": {"args": args, "kwargs": {"__dict__": kwargs}}}}

    assert grader.changed_inputs(record([same], {"y": same}), test) == []
    assert grader.changed_inputs(record([changed], {"y": same}), test) == ["argument 1"]
    assert grader.changed_inputs(record([same], {"y": changed}), test) == ["y"]
    assert grader.changed_inputs({}, test) == ["(the inputs did not come back)"]
    assert grader.changed_inputs({}, {"args": [1.5], "kwargs": {"__dict__": {}}}) == []  # numbers only


def test_a_symbolic_link_is_never_graded_as_a_submission(tmp_path):
    """A link in a class folder (or inside a submission's folder) could name a solution or a classmate's work."""
    solution = tmp_path / "solution.ipynb"
    solution.write_text("{}")
    folder = tmp_path / "class"
    (folder / "eve").mkdir(parents=True)
    (folder / "mallory.ipynb").symlink_to(solution)
    (folder / "eve" / "demo_source.ipynb").symlink_to(solution)
    (folder / "trent").mkdir()
    (folder / "trent" / "work").symlink_to(tmp_path, target_is_directory=True)
    found = {
        name: (file, note) for name, file, note in grader.find_submissions([folder], "demo_source.ipynb")
    }
    assert found == {name: (None, grader.LINK_STATUS) for name in ("eve", "mallory", "trent")}
