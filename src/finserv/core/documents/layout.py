"""PDF layout templates: ``render_pdf(template, data) -> bytes``.

Every template is A4 and sets its Chinese text in the embedded font (:mod:`.fonts`) with
:class:`~.typeset.CJKText` (line breaking with 禁则, justified lines). Values are set as plain
text, never as reportlab paragraph markup, which can load images from paths and URLs.

Templates (``TEMPLATES``):

``certificate`` (证书, landscape)
    title (default 证书), holder, body (text or list of paragraphs), number (证书编号),
    authority (颁发机构), date, doc_id and verify_url (QR code and 核验码).
``letter`` (结果通知书, portrait, GB/T 9704 proportions)
    authority (发文机关, the red head), doc_number (发文字号), heading, addressee,
    paragraphs (list), signature (署名, default authority), date, doc_id and verify_url.

A module adds a template with :func:`register_template`; the function it registers takes
the data dict and returns PDF bytes.
"""

from __future__ import annotations

import datetime
import io
import logging
from collections.abc import Callable

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.pagesizes import landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import BaseDocTemplate
from reportlab.platypus import Flowable
from reportlab.platypus import Frame
from reportlab.platypus import KeepInFrame
from reportlab.platypus import KeepTogether
from reportlab.platypus import PageTemplate
from reportlab.platypus import Spacer
from reportlab.platypus import Table
from reportlab.platypus import TableStyle

from finserv.core.documents.fonts import get_font
from finserv.core.documents.typeset import CJKText

logger = logging.getLogger(__name__)

RED = colors.HexColor("#C8102E")  # 红头 / seal red
GOLD = colors.HexColor("#B8860B")
INK = colors.HexColor("#1A1A1A")
GREY = colors.HexColor("#555555")
CREATOR = "finserv"
MAX_TEXT = 20_000  # characters per value: a template is no place for a book


class TemplateError(ValueError):
    """Unknown template or unusable data; the message is Chinese and safe to show."""


# --- helpers ------------------------------------------------------------------------------------


def text(value, limit: int = MAX_TEXT) -> str:
    """A value as plain text (None → ""), control characters dropped, length capped."""
    if value is None:
        return ""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return chinese_date(value)
    value = str(value)
    value = "".join(c for c in value if c in "\n\t" or (ord(c) >= 0x20 and not 0x7F <= ord(c) < 0xA0))
    return value[:limit]


def chinese_date(value) -> str:
    """2025年6月18日 (GB/T 9704-2012 writes dates in Arabic numerals); strings pass through."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if value in (None, ""):
        return chinese_date(datetime.date.today())
    return text(value, 40)


def paragraphs(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p for p in (line.strip() for line in value.split("\n")) if p]
    return [text(p) for p in value if text(p).strip()]


class QRCode(Flowable):
    """A QR code (segno) drawn as vector squares, so it prints sharp at any size."""

    def __init__(self, data: str, size: float):
        super().__init__()
        self.data = data
        self.size = size
        self.width = self.height = size

    def wrap(self, available_width, available_height):
        return self.size, self.size

    def draw(self):
        draw_qr(self.canv, self.data, 0, 0, self.size)


def draw_qr(canv, data: str, x: float, y: float, size: float) -> None:
    qr = segno.make(data, error="m", micro=False)
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=2)]
    cell = size / len(rows)
    canv.saveState()
    canv.setFillColor(colors.white)
    canv.rect(x, y, size, size, stroke=0, fill=1)
    canv.setFillColor(colors.black)
    path = canv.beginPath()
    for r, row in enumerate(rows):
        top = y + size - (r + 1) * cell
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(x + start * cell, top, (c - start) * cell + 0.01, cell + 0.01)
            else:
                c += 1
    canv.drawPath(path, stroke=0, fill=1)
    canv.restoreState()


def draw_bold_centred(canv, x: float, y: float, value: str, size: float, color, spacing: float = 0) -> None:
    font = get_font().name
    canv.saveState()
    canv.setFillColor(color)
    canv.setStrokeColor(color)
    canv.setLineWidth(size * 0.035)
    obj = canv.beginText()
    obj.setFont(font, size)
    obj.setCharSpace(spacing)
    obj.setTextRenderMode(2)
    width = canv.stringWidth(value, font, size) + spacing * max(len(value) - 1, 0)
    obj.setTextOrigin(x - width / 2, y)
    obj.textOut(value)
    canv.drawText(obj)
    canv.restoreState()


def _warn_missing(data: dict, template: str) -> None:
    font = get_font()
    missing = set()
    for value in data.values():
        if isinstance(value, str):
            missing |= font.missing(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, str):
                    missing |= font.missing(item)
    if missing:
        logger.warning("字体 %s 缺少字形，%s 中以下字符将显示为空白：%s", font.face_name, template, "".join(sorted(missing)))


def _metadata(canv, title: str, author: str, subject: str) -> None:
    canv.setTitle(title)
    canv.setAuthor(author)
    canv.setSubject(subject)
    canv.setCreator(CREATOR)
    canv.setProducer(CREATOR)


def _verification_caption(data: dict) -> str:
    doc_id = text(data.get("doc_id"), 64)
    return f"核验码：{doc_id}" if doc_id else ""


# --- certificate ----------------------------------------------------------------------------


def render_certificate(data: dict) -> bytes:
    font = get_font().name
    title = text(data.get("title") or "证书", 30)
    holder = text(data.get("holder"), 60)
    body = paragraphs(data.get("body"))
    number = text(data.get("number"), 60)
    authority = text(data.get("authority"), 60)
    date = chinese_date(data.get("date"))
    verify_url = text(data.get("verify_url"), 500)

    width, height = landscape(A4)
    buffer = io.BytesIO()
    canv = pdfcanvas.Canvas(buffer, pagesize=(width, height), pageCompression=1, initialFontName=font)
    _metadata(canv, f"{title} {holder}".strip(), authority, title)

    # frame: a red double rule with corner blocks, a thin gold rule inside
    canv.setStrokeColor(RED)
    canv.setLineWidth(3)
    canv.rect(10 * mm, 10 * mm, width - 20 * mm, height - 20 * mm)
    canv.setLineWidth(0.8)
    canv.rect(13 * mm, 13 * mm, width - 26 * mm, height - 26 * mm)
    canv.setStrokeColor(GOLD)
    canv.setLineWidth(0.6)
    canv.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)
    canv.setFillColor(RED)
    for cx, cy in ((10, 10), (10, 1), (1, 10), (1, 1)):
        px = 10 * mm if cx == 10 else width - 10 * mm
        py = 10 * mm if cy == 10 else height - 10 * mm
        canv.rect(px - 3 * mm, py - 3 * mm, 6 * mm, 6 * mm, stroke=0, fill=1)

    # title
    spacing = 18 if len(title) <= 4 else 4
    draw_bold_centred(canv, width / 2, height - 48 * mm, title, 40, RED, spacing=spacing)
    if number:
        canv.setFillColor(GREY)
        canv.setFont(font, 11)
        canv.drawRightString(width - 26 * mm, height - 26 * mm, f"证书编号：{number}")

    # holder and body text, shrunk to fit if long
    story = []
    if holder:
        story.append(CJKText(f"{holder}：", font, 20, leading=30, color=INK, align="left", space_after=4 * mm))
    story.extend(
        CJKText(p, font, 17, leading=31, color=INK, first_indent=34, align="justify") for p in body
    )
    frame_x, frame_w = 40 * mm, width - 80 * mm
    frame_top, frame_bottom = height - 62 * mm, 70 * mm
    frame_h = frame_top - frame_bottom
    used = sum(f.wrap(frame_w, frame_h)[1] + f.getSpaceAfter() for f in story)
    if used < frame_h:  # a short text sits in the upper middle, not under the title
        story.insert(0, Spacer(0, (frame_h - used) / 3))
    box = KeepInFrame(frame_w, frame_h, story, mode="shrink")
    Frame(frame_x, frame_bottom, frame_w, frame_top - frame_bottom, showBoundary=0,
          leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0).addFromList([box], canv)

    # authority and date, centred on a column at the right (落款)
    column_x = width - 82 * mm
    canv.setFillColor(INK)
    canv.setFont(font, 17)
    if authority:
        canv.drawCentredString(column_x, 52 * mm, authority)
    canv.drawCentredString(column_x, 42 * mm, date)

    # verification: QR code to the public page, and the code to type in
    if verify_url:
        size = 30 * mm
        draw_qr(canv, verify_url, 26 * mm, 24 * mm, size)
        canv.setFillColor(GREY)
        canv.setFont(font, 9)
        canv.drawString(60 * mm, 46 * mm, "扫码核验证书真伪")
        caption = _verification_caption(data)
        if caption:
            canv.drawString(60 * mm, 40 * mm, caption)
        canv.drawString(60 * mm, 34 * mm, "本证书经 SM2 数字签名")
        canv.drawString(60 * mm, 28 * mm, "篡改即失效")
    canv.showPage()
    canv.save()
    return buffer.getvalue()


# --- letter (结果通知书) ----------------------------------------------------------------------

# GB/T 9704-2012: text area 156 mm × 225 mm; top margin 37 mm, left 28 mm; body in 3号 (16 pt)
LETTER_LEFT = 28 * mm
LETTER_RIGHT = 26 * mm
LETTER_TOP = 37 * mm
LETTER_BOTTOM = 35 * mm
BODY_SIZE = 16
LINE = 28.9  # 22 lines in the 225 mm text area
HEAD_HEIGHT = 50 * mm  # the red head and its rule, on the first page


def render_letter(data: dict) -> bytes:
    font = get_font().name
    authority = text(data.get("authority"), 40)
    red_head = text(data.get("red_head") or authority, 30)
    doc_number = text(data.get("doc_number"), 60)
    heading = text(data.get("heading") or "结果通知书", 120)
    addressee = text(data.get("addressee"), 120)
    signature = text(data.get("signature") or authority, 60)
    date = chinese_date(data.get("date"))
    verify_url = text(data.get("verify_url"), 500)
    caption = _verification_caption(data)

    width, height = A4
    buffer = io.BytesIO()

    def first_page(canv, doc):
        canv.saveState()
        if red_head:
            size = 34 if len(red_head) <= 12 else max(22, int(34 * 12 / len(red_head)))
            spacing = 6 if len(red_head) <= 10 else 0
            draw_bold_centred(canv, width / 2, height - LETTER_TOP - 14 * mm, red_head, size, RED, spacing=spacing)
        rule_y = height - LETTER_TOP - 36 * mm
        if doc_number:
            canv.setFillColor(INK)
            canv.setFont(font, BODY_SIZE)
            canv.drawCentredString(width / 2, rule_y + 5 * mm, doc_number)
        canv.setStrokeColor(RED)
        canv.setLineWidth(1.6)
        canv.line(LETTER_LEFT - 2 * mm, rule_y, width - LETTER_RIGHT + 2 * mm, rule_y)
        footer(canv, doc)
        canv.restoreState()

    def footer(canv, doc):
        canv.saveState()
        canv.setFillColor(INK)
        canv.setFont(font, 14)
        canv.drawCentredString(width / 2, LETTER_BOTTOM - 14 * mm, f"— {doc.page} —")
        if caption:
            canv.setFillColor(GREY)
            canv.setFont(font, 8)
            canv.drawRightString(width - LETTER_RIGHT, LETTER_BOTTOM - 21 * mm, f"{caption}（本文件经 SM2 数字签名）")
        canv.restoreState()

    frame_w = width - LETTER_LEFT - LETTER_RIGHT
    frame_h = height - LETTER_TOP - LETTER_BOTTOM
    first = Frame(LETTER_LEFT, LETTER_BOTTOM, frame_w, frame_h - HEAD_HEIGHT, id="first",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    later = Frame(LETTER_LEFT, LETTER_BOTTOM, frame_w, frame_h, id="later",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc = BaseDocTemplate(
        buffer, pagesize=A4, title=heading, author=authority, subject=heading, creator=CREATOR,
        leftMargin=LETTER_LEFT, rightMargin=LETTER_RIGHT, topMargin=LETTER_TOP, bottomMargin=LETTER_BOTTOM,
        pageCompression=1, initialFontName=font,
    )
    doc.addPageTemplates([
        PageTemplate(id="First", frames=[first], onPage=first_page, autoNextPageTemplate="Later"),
        PageTemplate(id="Later", frames=[later], onPage=footer),
    ])

    story = [CJKText(heading, font, 22, leading=34, color=INK, align="center", bold=True, space_after=BODY_SIZE * 1.2)]
    if addressee:
        addressee = addressee if addressee.endswith(("：", ":")) else addressee + "："
        story.append(CJKText(addressee, font, BODY_SIZE, leading=LINE, color=INK, align="left"))
    body = [
        CJKText(p, font, BODY_SIZE, leading=LINE, color=INK, first_indent=2 * BODY_SIZE)
        for p in paragraphs(data.get("paragraphs"))
    ]
    story.extend(body[:-1])
    last = body[-1:]  # kept with the signature: no page with a signature but no text (GB/T 9704)

    # signature block: name centred over the date, the date 4 characters from the right margin
    sign_width = 4 * BODY_SIZE + max(stringWidth(signature, font, BODY_SIZE), stringWidth(date, font, BODY_SIZE))
    sign_width = min(sign_width, frame_w * 0.6)
    qr_cell = ""
    if verify_url:
        qr_cell = [
            QRCode(verify_url, 22 * mm),
            CJKText("扫码核验", font, 8, leading=11, color=GREY, align="left", space_before=1 * mm),
            CJKText(caption, font, 8, leading=11, color=GREY, align="left"),
        ]
    sign_cell = [
        CJKText(signature, font, BODY_SIZE, leading=LINE, color=INK, align="center"),
        CJKText(date, font, BODY_SIZE, leading=LINE, color=INK, align="center"),
    ]
    block = Table(
        [[qr_cell, "", sign_cell]],
        colWidths=[52 * mm, frame_w - 52 * mm - sign_width, sign_width],
        style=TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (2, 0), (2, 0), 4 * BODY_SIZE),
        ]),
    )
    story.append(KeepTogether([*last, Spacer(0, 14 * mm), block]))
    doc.build(story)
    return buffer.getvalue()


# --- registry -------------------------------------------------------------------------------------

Renderer = Callable[[dict], bytes]
TEMPLATES: dict[str, Renderer] = {
    "certificate": render_certificate,
    "letter": render_letter,
}


def register_template(name: str, renderer: Renderer) -> None:
    """Add (or replace) a layout template; *renderer* takes the data dict, returns PDF bytes."""
    TEMPLATES[name] = renderer


def render_pdf(template: str, data: dict | None = None) -> bytes:
    """Render *data* with layout *template* ("certificate", "letter", …) into PDF bytes."""
    renderer = TEMPLATES.get(template)
    if renderer is None:
        raise TemplateError(f"未知的文件模板：{template}")
    data = dict(data or {})
    _warn_missing(data, template)
    return renderer(data)
