"""The engine and everything but the screen.  ``MM_CONSOLE_PURE=1`` loads the pure-Python
sources even where the hot modules are installed compiled (``core/build.py``)."""

import os as _os

if _os.environ.get("MM_CONSOLE_PURE", "") not in ("", "0"):
    from core.build import force_pure as _force_pure

    _force_pure()
