"""Hypothesis runs the same examples on every run (every test is deterministic) and never
times an example: a loaded CI machine must not turn a slow example into a failure.

``pytest --hypothesis-profile=explore`` searches afresh (random examples, failures kept in
the example database and printed as a reproduction blob) when hunting for bugs.
"""

from hypothesis import settings

settings.register_profile("default", derandomize=True, deadline=None, database=None)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True)
settings.load_profile("default")
