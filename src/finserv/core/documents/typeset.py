"""Chinese text setting for the PDF templates: line breaking with 禁则 and justified lines.

reportlab's CJK wrapping lets a full-width comma (，), semicolon or colon start a line and
hangs at most one closing mark in the margin, so "（¥1,200.00）。" leaves "。" alone at the
start of the next line. :class:`CJKText` breaks lines itself (GB/T 15834 punctuation rules:
closing marks never start a line, opening marks never end one, Latin words and numbers are
not split) and justifies every line but the last by spreading the spare width between the
characters, as Chinese typesetting does. It takes plain text only — no markup is parsed, so
data cannot inject reportlab tags (``<img src=...>`` would read local files).
"""

from __future__ import annotations

import unicodedata

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

# A line must not start with these (closing punctuation, stops, marks that follow)
CANNOT_START = set(
    "，。、；：？！）》〉」』】〕〗〙〛］｝”’…—·～％‰℃°′″"
    ",.;:?!)]}%'\"ー々〻ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ・"
)
# …and must not end with these (opening punctuation, prefixes)
MAX_SPREAD = 0.25  # em
CANNOT_END = set("（《〈「『【〔〖〘〚［｛“‘([{$£¥￥＄￡#＃@§№")


def _is_wide(char: str) -> bool:
    """Full-width, or ambiguous (“”…—·), which Chinese fonts set full-width."""
    return unicodedata.east_asian_width(char) in ("W", "F", "A")


def _units(value: str) -> list[str]:
    """Split into unbreakable units: one wide character, one space, or a run of narrow
    non-space characters (a Latin word, a number like 1,200.00); then glue punctuation to
    its neighbour so a break never separates them."""
    units: list[str] = []
    run = ""
    for char in value:
        if char.isspace():
            if run:
                units.append(run)
                run = ""
            units.append(" ")
        elif _is_wide(char):
            if run:
                units.append(run)
                run = ""
            units.append(char)
        else:
            run += char
    if run:
        units.append(run)
    glued: list[str] = []
    pending = ""  # opening marks waiting for the unit they belong to
    for unit in units:
        if unit == " ":
            if pending:
                glued.append(pending)
                pending = ""
            glued.append(unit)
        elif len(unit) == 1 and unit in CANNOT_END:
            pending += unit
        elif unit[0] in CANNOT_START and glued and glued[-1] != " " and not pending:
            glued[-1] += unit
        else:
            glued.append(pending + unit)
            pending = ""
    if pending:
        glued.append(pending)
    return glued


def break_lines(value: str, font: str, size: float, width: float, first_indent: float = 0) -> list[str]:
    """Break one paragraph (no newlines) into lines no wider than *width*."""
    lines: list[str] = []
    line, used = "", 0.0
    limit = width - first_indent
    for unit in _units(value):
        unit_width = stringWidth(unit, font, size)
        if unit == " " and not line:
            continue  # no space at the start of a line
        if used + unit_width <= limit + 0.01 or not line and unit_width <= limit + 0.01:
            line += unit
            used += unit_width
            continue
        if line:
            lines.append(line.rstrip(" "))
            limit = width
            line, used = "", 0.0
            if unit == " ":
                continue
        if unit_width <= limit + 0.01:
            line, used = unit, unit_width
            continue
        for char in unit:  # a unit wider than the line: cut it where it must
            char_width = stringWidth(char, font, size)
            if used + char_width > limit + 0.01 and line:
                lines.append(line)
                limit = width
                line, used = "", 0.0
            line += char
            used += char_width
    if line.strip():
        lines.append(line.rstrip(" "))
    return lines


class CJKText(Flowable):
    """One paragraph of Chinese (or mixed) plain text, set by :func:`break_lines`.

    *align* is "justify" (the last line left), "left", "center" or "right". With *bold* the
    glyphs are also stroked, a faux bold for fonts that come without a bold face.
    """

    def __init__(
        self,
        value: str,
        font: str,
        size: float,
        leading: float | None = None,
        color=colors.black,
        align: str = "justify",
        first_indent: float = 0,
        bold: bool = False,
        space_before: float = 0,
        space_after: float = 0,
        _lines: list[tuple[str, float, bool]] | None = None,
    ):
        super().__init__()
        self.value = " ".join(value.split("\n"))
        self.font = font
        self.size = size
        self.leading = leading or size * 1.5
        self.color = color
        self.align = align
        self.first_indent = first_indent
        self.bold = bold
        self.spaceBefore = space_before
        self.spaceAfter = space_after
        self._lines = _lines  # (text, indent, is_last) once set
        self._fixed = _lines is not None  # a part made by split(): its lines are final
        self._width = None

    def _layout(self, width: float) -> list[tuple[str, float, bool]]:
        if not self._fixed and (self._lines is None or self._width != width):
            raw = break_lines(self.value, self.font, self.size, width, self.first_indent)
            self._lines = [(line, self.first_indent if i == 0 else 0.0, i == len(raw) - 1) for i, line in enumerate(raw)]
            self._width = width
        return self._lines

    def wrap(self, available_width, available_height):
        self._layout(available_width)
        self.width = available_width
        self.height = len(self._lines) * self.leading
        return self.width, self.height

    def split(self, available_width, available_height):
        lines = self._layout(available_width)
        fit = int((available_height + 0.01) // self.leading)
        if fit <= 0 or fit >= len(lines):
            return [] if fit <= 0 else [self]
        if fit == 1 and len(lines) > 2:
            return []  # no orphan first line at the bottom of a page
        if len(lines) - fit == 1 and fit > 1:
            fit -= 1  # no widow last line at the top of the next page
        kwargs = dict(font=self.font, size=self.size, leading=self.leading, color=self.color, align=self.align,
                      bold=self.bold)
        head = CJKText(self.value, space_before=self.spaceBefore, _lines=lines[:fit], **kwargs)
        tail = CJKText(self.value, space_after=self.spaceAfter, _lines=lines[fit:], **kwargs)
        head._width = tail._width = available_width
        return [head, tail]

    def draw(self):
        canv = self.canv
        canv.saveState()
        canv.setFillColor(self.color)
        if self.bold:
            canv.setStrokeColor(self.color)
            canv.setLineWidth(self.size * 0.035)
        for i, (line, indent, last) in enumerate(self._lines or []):
            baseline = self.height - i * self.leading - self.leading / 2 - 0.36 * self.size
            natural = stringWidth(line, self.font, self.size)
            room = self.width - indent - natural
            spacing = 0.0
            if self.align == "justify" and not last and len(line) > 1 and room > 0:
                # spread the spare width, but no wider than a quarter em: a line left short by
                # an unbreakable number is better ragged than with gaps between all characters
                spacing = min(room / (len(line) - 1), MAX_SPREAD * self.size)
                x = indent
            elif self.align == "center":
                x = indent + room / 2
            elif self.align == "right":
                x = indent + room
            else:
                x = indent
            obj = canv.beginText()
            obj.setFont(self.font, self.size)
            if self.bold:
                obj.setTextRenderMode(2)
            obj.setCharSpace(spacing)
            obj.setTextOrigin(x, baseline)
            obj.textOut(line)
            canv.drawText(obj)
        canv.restoreState()
