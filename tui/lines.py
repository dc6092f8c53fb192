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
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

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
        old = self._rows
        self._rows = rows
        if len(old) != len(rows):
            self.virtual_size = Size(self.size.width, len(rows))
            self.refresh()
            return
        for y, (before, after) in enumerate(zip(old, rows, strict=True)):
            if before != after:
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
            segments = [
                Segment(text, base + self.get_component_rich_style(cls) if cls else base)
                for text, cls in row
            ]
            strip = Strip(segments).crop_extend(0, width, base)
            self._cache[key] = strip
        return strip
