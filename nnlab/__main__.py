"""``python -m nnlab``: the same as the ``nnlab`` command."""

from .cli import main

raise SystemExit(main())
