"""Benchmarks that print figures (not timed tests): ``python -m bench`` runs them all, prints a
table and writes ``bench/RESULTS.md``; each ``bench.bench_<name>`` module also runs alone.
Nothing here is collected by pytest."""
