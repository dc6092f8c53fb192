"""Hypothesis against everything that reads outside input.

Config, the wire, local files, the twin, the command line.
"""
