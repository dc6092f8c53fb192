"""The terminal front ends of mm-console.  ``tui.run.run_console`` is the Textual console:
panes fed by ``ConsoleView``, keys that call ``Runner.operate``; it never reaches into the
maker.  The CLI imports it lazily, so the headless path never loads Textual.
"""
