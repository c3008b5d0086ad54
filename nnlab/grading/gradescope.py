"""``autograder.zip`` for Gradescope: the same ``nnlab grade`` on Gradescope's workers.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when it builds the
image, then for every submission runs ``/autograder/run_autograder`` (a copy of the zip's file) with
the student's files in ``/autograder/submission``; the score must be written to
``/autograder/results/results.json``. Here ``run_autograder`` calls
``nnlab grade BUNDLES --gradescope ROOT``, which does exactly that. ``NNLAB_GRADESCOPE_ROOT``
replaces ``/autograder`` (a local test lays a temporary folder out the same way) and
``NNLAB_COMMAND`` the ``nnlab`` command.

Gradescope's defaults are respected: 768 MB of memory (the sandbox's address-space limit), at most
10 minutes per submission (the time per question is that budget shared over the questions, at most
60 s), and half a CPU (one process at a time, ``--jobs 1``).
"""

from __future__ import annotations

import io
import json
import zipfile

__all__ = ["GRADESCOPE_MEMORY_MB", "GRADESCOPE_MINUTES", "autograder_zip", "run_autograder", "setup_sh"]

GRADESCOPE_MEMORY_MB = 768
GRADESCOPE_MINUTES = 10


def setup_sh(requirement: str) -> str:
    """The image's setup: install nnlab (and NumPy, tqdm with it); keep the bundles unreadable to others."""
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
if ! command -v python3 >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3 python3-pip >/dev/null
fi
# a wheel placed in the zip (e.g. a course's own build of nnlab) is installed instead of the release
if ls /autograder/source/*.whl >/dev/null 2>&1; then
    python3 -m pip install --no-cache-dir --quiet /autograder/source/*.whl
else
    python3 -m pip install --no-cache-dir --quiet "{requirement}"
fi
# The bundles hold the hidden tests: readable by root only (the graded code runs unprivileged).
chmod 700 /autograder/source
chmod 600 /autograder/source/bundles/*.json
"""


def run_autograder(timeout: float, memory_mb: int = GRADESCOPE_MEMORY_MB) -> str:
    """The script Gradescope runs per submission (``NNLAB_GRADESCOPE_ROOT`` overrides ``/autograder``)."""
    return f"""#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes $ROOT/results/results.json.
set -u
ROOT="${{NNLAB_GRADESCOPE_ROOT:-/autograder}}"
NNLAB="${{NNLAB_COMMAND:-nnlab}}"
export NNLAB_PROGRESS=0
mkdir -p "$ROOT/results"
chmod 700 "$ROOT/source" "$ROOT/results" 2>/dev/null || true
$NNLAB grade "$ROOT/source/bundles" --gradescope "$ROOT" --jobs 1 --timeout {timeout:g} --memory {memory_mb}
"""


def autograder_zip(bundles: dict[str, str], requirement: str | None = None) -> bytes:
    """The zip's bytes: ``setup.sh``, ``run_autograder`` and ``bundles/NAME.json`` (deterministic: fixed dates)."""
    from .. import __version__

    requirement = requirement or f"nnlab=={__version__}"
    questions = sum(len(json.loads(text)["questions"]) for text in bundles.values()) or 1
    per_submission = max(1, len(bundles))
    timeout = min(60.0, (GRADESCOPE_MINUTES * 60 - 60) / max(questions / per_submission, 1))
    members = {
        "setup.sh": setup_sh(requirement),
        "run_autograder": run_autograder(round(timeout)),
        **{f"bundles/{name}": text for name, text in sorted(bundles.items())},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if not name.endswith(".json") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()
