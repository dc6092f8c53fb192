"""The program as a whole.

The command line and exit codes, the demo, the summaries, and the import layers.
"""
