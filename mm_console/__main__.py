"""``python -m mm_console``: the same as the ``mm-console`` command."""

from mm_console.cli import main

raise SystemExit(main())
