"""A dense, fast pane drawn with Textual's line API: rows in, only changed rows repainted.

A pane hands ``RowsView.set_rows`` a list of rows; a row is a tuple of cells, a cell a pair of
text and the name of one of the widget's component classes (its colour comes from the theme
through console.tcss).  Rows are plain hashable data, so a rendered ``Strip`` is cached per
(row, width) and a new frame refreshes only the lines whose row changed (the pattern of
Textualize/toolong's ``log_lines.py``).  The cache is cleared when styles change (theme).

This widget draws; it never decides what a row says and never reads the clock.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

_UNSTYLED = Style()
# Rendered rows kept per pane: a few screens' worth.  Every cached Strip holds its segments and
# a handful of small caches, all tracked by the garbage collector; at 2,048 rows per pane they
# were most of the process's objects and made each full collection a ~90 ms pause.
STRIP_CACHE_ROWS = 256

Cell = tuple[str, str]
Row = tuple[Cell, ...]


class RowsView(ScrollView):
    """Scrollable rows with a per-row strip cache and dirty-row refresh."""

    DEFAULT_CSS = """
    RowsView { overflow-x: hidden; overflow-y: auto; scrollbar-size-vertical: 1; }
    """

    VIRTUAL_STEP = 1

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._rows: list[Row] = []
        self._cache: LRUCache[tuple[Row, int], Strip] = LRUCache(STRIP_CACHE_ROWS)
        self._styles: dict[str, Style] = {}
        self._base: Style | None = None

    @property
    def rows(self) -> Sequence[Row]:
        return self._rows

    def set_rows(self, rows: list[Row]) -> None:
        """Replace the rows; repaint only the visible rows that changed.  Rows outside the
        viewport are not refreshed (they are drawn from ``_rows`` when scrolled into view), and
        when most visible rows changed (a log that shifted) one full refresh is cheaper than
        many line refreshes."""
        old = self._rows
        self._rows = rows
        if len(old) != len(rows):
            self._fit_virtual_size()
            self.refresh()
            return
        top = self.scroll_offset.y
        height = self.size.height
        changed = [y for y in range(top, min(len(rows), top + height)) if old[y] != rows[y]]
        if len(changed) > height // 2:
            self.refresh()
        else:
            for y in changed:
                self.refresh_line(y)

    def _fit_virtual_size(self) -> None:
        """Scroll range for the rows.  Setting ``virtual_size`` re-lays out the whole screen,
        so it is never lower than the viewport (a row count that changes while every row fits,
        orders coming and going, costs a repaint, not a layout pass) and grows in steps of
        ``VIRTUAL_STEP`` rows (a growing log re-lays out once per step, not once per entry)."""
        rows, viewport = len(self._rows), self.size.height
        step = self.VIRTUAL_STEP
        height = viewport if rows <= viewport else max(-(-rows // step) * step, viewport)
        if self.virtual_size.height != height or self.virtual_size.width != self.size.width:
            self.virtual_size = Size(self.size.width, height)

    def on_resize(self) -> None:
        self._fit_virtual_size()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._styles.clear()
        self._base = None

    def _style(self, cls: str) -> Style | None:
        """The base style plus component class ``cls``, computed once per styling pass
        (``rich_style`` walks the ancestors: far too slow to ask per line).  ``None`` before
        the first styling pass, when component styles do not exist yet."""
        style = self._styles.get(cls)
        if style is None:
            base = self._base_style()
            if not cls:
                return base
            part = self.get_component_rich_style(cls, default=_UNSTYLED)
            if part is _UNSTYLED:
                return None
            style = self._styles[cls] = base + part
        return style

    def _base_style(self) -> Style:
        base = self._base
        if base is None:
            base = self._base = self.rich_style
        return base

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        base = self._base_style()
        if index >= len(self._rows):
            return Strip.blank(width, base)
        row = self._rows[index]
        key = (row, width)
        strip = self._cache.get(key)
        if strip is None:
            styled = True
            segments = []
            for text, cls in row:
                style = self._style(cls)
                if style is None:
                    # Drawn before the first styling pass: unstyled once, and not cached.
                    styled = False
                    style = base
                segments.append(Segment(text, style))
            strip = Strip(segments).crop_extend(0, width, base)
            if styled:
                self._cache[key] = strip
        return strip
