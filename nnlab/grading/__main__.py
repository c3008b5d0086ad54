"""``python -m nnlab.grading BUNDLE SUBMISSION... --out DIR``: the same as ``nnlab grade``."""

from .grader import main

raise SystemExit(main())
