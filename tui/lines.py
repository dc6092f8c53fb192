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

Cell = tuple[str, str]
Row = tuple[Cell, ...]


class RowsView(ScrollView):
    """Scrollable rows with a per-row strip cache and dirty-row refresh."""

    DEFAULT_CSS = """
    RowsView { overflow-x: hidden; overflow-y: auto; scrollbar-size-vertical: 1; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._rows: list[Row] = []
        self._cache: LRUCache[tuple[Row, int], Strip] = LRUCache(2048)

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
            self.virtual_size = Size(self.size.width, len(rows))
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

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self._rows):
            return Strip.blank(width, base)
        row = self._rows[index]
        key = (row, width)
        strip = self._cache.get(key)
        if strip is None:
            styled = True
            segments = []
            for text, cls in row:
                style = base
                if cls:
                    # Component styles exist only after the first styling pass; a row drawn
                    # before it is shown unstyled once and not cached.
                    part = self.get_component_rich_style(cls, default=_UNSTYLED)
                    styled = styled and part is not _UNSTYLED
                    style = base + part
                segments.append(Segment(text, style))
            strip = Strip(segments).crop_extend(0, width, base)
            if styled:
                self._cache[key] = strip
        return strip
