"""The program ``mm-console``: the one place that puts the engine and the screen together.

``mm_console.cli`` parses the command line and runs the headless reporter, the config commands,
the loopback twin, the swarm, or the console (``tui``).  It sits above both ``core`` and ``tui``
so that ``core`` never imports the screen (the layers are enforced by
``tests/program/test_layers.py``); it still imports ``tui`` lazily, only when the console or the
swarm's progress bar is asked for, so the headless path never loads Textual or Rich.
"""
