"""The Chinese font embedded in every generated PDF.

reportlab embeds TrueType fonts only (``glyf`` outlines; a CFF/OpenType font such as Noto
CJK fails to load), always as a subset holding just the glyphs the document uses. The font
is looked up once per process, first found wins:

1. ``FINSERV_PDF_FONT``: a path to a .ttf/.ttc file, optionally ``path:index`` for a
   collection member — for a deployment that has licensed 仿宋_GB2312 / 方正小标宋 fonts;
2. the PyPI package ``paperang-p2-fonts-cjk`` (a dependency of finserv), which ships
   WenQuanYi Micro Hei 0.2.0-beta (文泉驿微米黑; Apache-2.0, embedding allowed, full GB 2312
   and most of GBK; byte-identical to Debian's ``fonts-wqy-microhei``);
3. Debian's packages, if installed: fonts-wqy-microhei, fonts-wqy-zenhei, fonts-arphic-gbsn00lp,
   fonts-arphic-uming.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError
from reportlab.pdfbase.ttfonts import TTFont

logger = logging.getLogger(__name__)

FONT_NAME = "FinservCJK"
ENV_VAR = "FINSERV_PDF_FONT"
PACKAGE = "paperang_p2_fonts_cjk"
PACKAGE_FONT = "fonts/wqy-microhei.ttc"
SYSTEM_FONTS = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
PROBE = "证书通知书编号〔〕（）：，。"  # a font without these is no Chinese font


class FontNotFound(RuntimeError):
    """No embeddable (TrueType-outline) Chinese font was found."""


@dataclass(frozen=True)
class CJKFont:
    name: str  # the name registered with reportlab
    path: str
    index: int
    face_name: str
    _font: TTFont

    def missing(self, text: str) -> set[str]:
        """The characters of *text* this font has no glyph for (they would print blank)."""
        cmap = self._font.face.charToGlyph
        return {c for c in text if not c.isspace() and ord(c) not in cmap and ord(c) >= 0x80}


_lock = threading.Lock()
_font: CJKFont | None = None


def _candidates() -> list[tuple[str, int, str]]:
    found: list[tuple[str, int, str]] = []
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        path, sep, index = configured.rpartition(":")
        if sep and index.isdigit():
            found.append((path, int(index), ENV_VAR))
        else:
            found.append((configured, 0, ENV_VAR))
    try:
        from importlib.resources import files

        found.append((str(files(PACKAGE).joinpath(PACKAGE_FONT)), 0, PACKAGE))
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    found.extend((path, index, "system") for path, index in SYSTEM_FONTS)
    return found


def _load(path: str, index: int) -> TTFont | None:
    if not Path(path).is_file():
        return None
    try:
        font = TTFont(FONT_NAME, path, subfontIndex=index)
    except (TTFError, OSError, ValueError) as exc:  # CFF outlines, broken file, bad index
        logger.warning("不能嵌入的字体 / font not embeddable: %s (%s)", path, exc)
        return None
    cmap = font.face.charToGlyph
    if any(ord(c) not in cmap for c in PROBE):
        logger.warning("字体缺少常用汉字 / font lacks Chinese glyphs: %s", path)
        return None
    return font


def get_font() -> CJKFont:
    """Register the Chinese font with reportlab on first use and return it (cached)."""
    global _font
    if _font is not None:
        return _font
    with _lock:
        if _font is None:
            tried = []
            for path, index, source in _candidates():
                tried.append(path)
                font = _load(path, index)
                if font is None:
                    if source == ENV_VAR:
                        logger.error("%s 指定的字体不可用：%s", ENV_VAR, path)
                    continue
                pdfmetrics.registerFont(font)
                face = font.face.name.decode("latin-1") if isinstance(font.face.name, bytes) else str(font.face.name)
                _font = CJKFont(FONT_NAME, path, index, face, font)
                logger.info("PDF 中文字体 / PDF font: %s (%s)", face, path)
                break
            else:
                raise FontNotFound(
                    "未找到可嵌入 PDF 的中文 TrueType 字体；请安装 paperang-p2-fonts-cjk（pip）"
                    f"或 fonts-wqy-microhei（apt），或以 {ENV_VAR} 指定字体文件。已查找：{', '.join(tried)}"
                )
    return _font


def reset_font() -> None:
    """Forget the cached font (tests that point FINSERV_PDF_FONT elsewhere)."""
    global _font
    with _lock:
        _font = None
