"""The console.

Pilot tests of the keys, the emergency input thread, views from a virtual-time engine,
and SVG snapshots.
"""
