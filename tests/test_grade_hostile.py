"""``nnlab grade`` against hostile and broken submissions: each scores what an honest grader gives.

The submissions are notebooks in ``tests/grading/submissions/`` (written by
``tests/grading/make_submissions.py``), their expected score and status in ``tests/grading/expected.json``.
Every cheat sits in the 2-point question ``demo.double``; the honest answers beside it (``demo.square``
and the value question ``demo.lam``, 1 point each) must keep their marks. All of them are graded in
one batch by the ``nnlab`` command itself (``--jobs 2``, 4 s per question, 1 GB of address space),
and afterwards no process they started may be left running.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnlab.exercises import format as fmt

HERE = Path(__file__).resolve().parent / "grading"
EXPECTED = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
SUBMISSIONS = HERE / "submissions"
TIMEOUT_S = 4  # per question: the three endless cases wait this long; honest ones take well under 1 s
MARKERS = ("4242.123", "4243.123")  # the command lines of the daemon and of the stdout holder


def build_bundle(folder: Path) -> Path:
    """The demo's bundle, built by ``nnlab assign`` into a folder only its owner can enter."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    subprocess.run(
        [sys.executable, "-m", "nnlab", "assign", str(HERE / "demo_source.ipynb"), "--out", str(folder)],
        check=True,
        capture_output=True,
    )
    bundle = folder / "autograder" / "demo_source.json"
    os.chmod(bundle, 0o600)
    return bundle


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("hostile")
    os.chmod(root, 0o700)
    bundle = build_bundle(root / "assign")
    shutil.copytree(SUBMISSIONS, root / "class")  # private, as README asks: no submission reads another
    out = root / "graded"
    env = {**os.environ, "NNLAB_PROGRESS": "0"}
    args = ["--out", str(out), "--jobs", "2", "--timeout", str(TIMEOUT_S), "--memory", "1024"]
    proc = subprocess.run(
        [sys.executable, "-m", "nnlab", "grade", str(bundle), str(root / "class"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    with open(out / "grades.csv", encoding="utf-8") as handle:
        rows = {row["submission"]: row for row in csv.DictReader(handle)}
    return {"proc": proc, "rows": rows, "out": out, "bundle": bundle}


def test_every_case_has_a_notebook_and_an_expectation():
    assert sorted(p.stem for p in SUBMISSIONS.iterdir()) == sorted(EXPECTED)
    assert len(EXPECTED) >= 25


def test_the_batch_ran_and_exited_0(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stderr
    assert "warning" not in batch["proc"].stderr  # the bundle and the class folder are private
    assert sorted(batch["rows"]) == sorted(EXPECTED)
    assert f"graded {len(EXPECTED)} submission(s)" in batch["proc"].stdout


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_case_scores_what_an_honest_grader_gives(batch, case):
    if case == "reads_bundle" and os.geteuid() != 0:
        pytest.skip(
            "as an ordinary user a submission can read the bundle (README says so); root drops to nobody"
        )
    row = batch["rows"][case]
    want = EXPECTED[case]
    assert float(row["max_score"]) == 4
    assert float(row["score"]) == want["score"], row["status"]
    assert re.search(want["status"], row["status"]), row["status"]
    results = json.loads((batch["out"] / case / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == want["score"]
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(want["score"])
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(results["tests"][0])


def _processes() -> list[tuple[int, int, str]]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            uid = os.stat(f"/proc/{name}").st_uid
        except OSError:
            continue
        found.append((int(name), uid, cmdline))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_process_is_left_running(batch):
    left = [
        (pid, cmd)
        for pid, uid, cmd in _processes()
        if any(m in cmd for m in MARKERS) or "_runner.py" in cmd or "_supervise.py" in cmd
    ]
    assert left == []
    if os.geteuid() == 0:
        from nnlab.grading.sandbox import UID_BASE, UID_SPAN

        # every run's own user id: not one process of any of them is left
        assert [p for p in _processes() if p[1] == 65534 or UID_BASE <= p[1] < UID_BASE + UID_SPAN] == []
    # the daemon and the stdout holder did start (and were ended): the grader says so
    for case in ("double_forked_daemon", "holds_stdout"):
        report = json.loads((batch["out"] / case / "raw" / "grader.json").read_text(encoding="utf-8"))
        assert report["questions"][0]["report"]["strays"] >= 1


def test_a_forged_results_file_never_lands(batch):
    results = json.loads((batch["out"] / "forged_results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 2 and batch["rows"]["forged_results"]["score"] == "2"
    assert not (batch["out"] / "forged_results" / "raw" / "results.json").exists()


def test_a_flood_of_output_is_cut_in_the_kept_log(batch):
    log = batch["out"] / "prints_100mb" / "raw" / "demo.double.log"
    assert 0 < log.stat().st_size < 300 * 1024
    assert log.read_bytes().endswith(b"[... output cut by nnlab grade]\n")


def _secrets(bundle: Path) -> list[str]:
    """Every hidden input and expected value, and the value question's answer, as feedback could print them."""
    data = json.loads(bundle.read_text(encoding="utf-8"))
    numbers: list[float] = []
    for question in data["questions"]:
        for test in question["tests"]:
            if test["visibility"] == "hidden" or question["kind"] == "value":
                for value in (
                    fmt.decode(test["expected"]),
                    *fmt.decode(test["args"]),
                    *fmt.decode(test["kwargs"]).values(),
                ):
                    numbers += [float(v) for v in np.ravel(value)]
    texts = set()
    for x in numbers:
        texts |= {f"{x:.6g}", f"{x:.4g}", repr(x)}
    return sorted(t for t in texts if len(t) > 3)


def test_feedback_never_shows_a_hidden_input_or_expected_value(batch):
    """Neither the student's files nor the grader's own record repeat a hidden input or expected value."""
    secrets = _secrets(batch["bundle"])
    assert len(secrets) > 10
    for case in EXPECTED:
        for name in ("feedback.md", "results.json", "raw/grader.json"):
            text = (batch["out"] / case / name).read_text(encoding="utf-8")
            if name == "raw/grader.json":  # its run reports hold timings, which may look like anything
                record = json.loads(text)
                text = json.dumps(
                    [{k: v for k, v in q.items() if k != "report"} for q in record["questions"]]
                )
            if name == "results.json":
                text = json.dumps({k: v for k, v in json.loads(text).items() if k != "execution_time"})
            leaked = [s for s in secrets if s in text]
            assert leaked == [], (case, name, leaked)
            assert "hidden-double" not in text and "rng.normal" not in text


def test_timing_table(batch, capsys):
    """Not an assertion on speed: prints the table (case, score, status, seconds) for the report."""
    with capsys.disabled():
        print("\ncase | score | status | seconds")
        for case, row in sorted(batch["rows"].items()):
            print(f"{case} | {row['score']} | {row['status'][:90]} | {row['seconds']}")
    assert all(float(row["seconds"]) >= 0 for row in batch["rows"].values())


def test_a_thread_left_running_does_not_hold_the_run_until_its_time_limit(batch):
    report = json.loads(
        (batch["out"] / "thread_keeps_running" / "raw" / "grader.json").read_text(encoding="utf-8")
    )
    assert [q["report"]["timed_out"] for q in report["questions"]] == [False, False, False]


def test_hidden_inputs_read_from_the_runners_memory_never_reach_the_feedback(batch):
    """The public tests run in a process that never holds a hidden input; the hidden run's class names are not shown."""
    feedback = (batch["out"] / "leaks_hidden_inputs" / "feedback.md").read_text(encoding="utf-8")
    assert "Leak" in feedback  # the public tests' feedback shows the exception in full...
    assert "an exception of its own class" in feedback  # ...the hidden tests' only its kind
    assert feedback.count("[1.0, 2.0]") >= 1 and "hidden" in feedback


@pytest.mark.skipif(os.geteuid() != 0, reason="as an ordinary user the files are yours (README says so)")
def test_files_left_in_shared_folders_are_removed_and_nothing_was_planted(batch):
    left = [p for folder in ("/tmp", "/var/tmp", "/dev/shm") for p in Path(folder).glob("nnlab-litter*")]
    assert left == []
    assert not list(batch["out"].parent.rglob("planted.ipynb"))
