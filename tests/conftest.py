"""Hypothesis runs the same examples on every run (every test is deterministic) and never
times an example: a loaded CI machine must not turn a slow example into a failure.
Sessions started by tests journal into a temporary data directory, never the user's, and serve
their control sockets from a temporary runtime directory.

``pytest --hypothesis-profile=explore`` searches afresh (random examples, failures kept in
the example database and printed as a reproduction blob) when hunting for bugs.
"""

import atexit
import os
import shutil
import tempfile

from hypothesis import settings

# Every session a test starts writes its journal under the user's data directory (issue 17):
# point it at a throw-away directory, for this process and every subprocess it starts.
_DATA = tempfile.mkdtemp(prefix="mm-console-test-data-")
os.environ["XDG_DATA_HOME"] = _DATA
# Likewise headless engines' control sockets (issue 18): each test process its own runtime
# directory, so that parallel test processes never contend for one engine name.
_RUNTIME = os.path.join(_DATA, "run")
os.mkdir(_RUNTIME, 0o700)
os.environ["XDG_RUNTIME_DIR"] = _RUNTIME
atexit.register(shutil.rmtree, _DATA, ignore_errors=True)

settings.register_profile("default", derandomize=True, deadline=None, database=None)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True)
settings.load_profile("default")
