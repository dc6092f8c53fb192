"""Exit codes of ``mm-console``: defined here once; the command line, the console and
``RunResult.exit_code`` all import them (D37).

This module only names numbers; it never exits.
"""

from __future__ import annotations

EXIT_OK = 0  # a normal stop: orders swept, nothing latched
EXIT_VIOLATIONS = 1  # ``mm-console swarm``: at least one seed broke an invariant
EXIT_USAGE = 2  # bad config or arguments (one line per problem, never a traceback)
EXIT_HALTED = 3  # stopped by a safety rule (halted, kill latched), orders left, engine error
