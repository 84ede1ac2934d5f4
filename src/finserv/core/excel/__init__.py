"""excel: template download, streaming import with a per-row error report, streaming export.

API::

    from finserv.core.excel import Column, export_xlsx, template_xlsx, import_xlsx
    from finserv.core.excel import error_report_xlsx, RowInvalid, ExcelError

    COLUMNS = [
        Column("用户名", "username", required=True),
        Column("手机号码", "mobile", type="mobile"),
        Column("类别", "kind", type="choice", choices={"bank": "银行", "insurer": "保险"}),
    ]
    data = export_xlsx(rows, COLUMNS, title="用户")          # rows: dicts by field id, or sequences
    data = template_xlsx(COLUMNS)                             # header + hint row + drop-down lists
    report = import_xlsx(upload, COLUMNS, handle_row, progress)
    if not report.ok:
        error_report_xlsx(report)                             # the bad rows + 错误原因, red

* Every string written to a cell that a spreadsheet would run as a formula (one starting with
  = + - @ tab or CR) gets a leading apostrophe (OWASP "CSV/formula injection"); an import strips
  that apostrophe again, so an export reads back as it was.
* Import is all-or-nothing by default: when any row fails, the current transaction is doomed
  (``transaction.doom()``), so it can only be aborted — nothing is half-saved, whoever the
  caller is. With ``all_or_nothing=False`` each row runs in a savepoint and bad rows are rolled
  back (note: after-commit hooks registered by a rolled-back row still fire).
* Reading uses openpyxl's read_only mode (rows are streamed, the sheet is never all in memory);
  writing uses write_only mode.
* File-level problems (not an .xlsx, too large, wrong headers, too many rows) raise
  :class:`ExcelError` with a Chinese message before any row is handled.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import io
import re
import time
from typing import Any
from typing import Callable

from finserv import _
from finserv.core.codes import is_valid_id_number
from finserv.core.codes import is_valid_uscc
from zope.i18n import translate as _translate
from zope.i18nmessageid import Message

__all__ = [
    "Column",
    "ExcelError",
    "ImportReport",
    "RowError",
    "RowInvalid",
    "XLSX",
    "check_file",
    "error_report_xlsx",
    "export_xlsx",
    "import_xlsx",
    "neutralise",
    "template_xlsx",
]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_REPORTED_ROWS = 10_000  # bad rows kept for the error report; the rest are only counted
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
REASON_HEADER = _("excel_reason_header", default="错误原因")

TYPES = ("text", "int", "decimal", "date", "choice", "id_number", "uscc", "mobile", "email")

MSG_EMPTY = _("excel_empty_file", default="上传的文件是空的。")
MSG_TOO_LARGE = _("excel_too_large", default="文件过大（${size} MB），上限为 ${limit} MB。")
MSG_OLD_XLS = _("excel_old_xls", default="不支持旧版 Excel 97-2003（.xls）文件，请在 Excel 中“另存为” .xlsx 格式后重新上传。")
MSG_NOT_XLSX = _("excel_not_xlsx", default="只能上传 Excel 文件（.xlsx），该文件不是有效的 .xlsx 文件。")
MSG_NO_SHEET = _("excel_no_sheet", default="文件中没有工作表。")
MSG_NO_HEADER = _("excel_no_header", default="第 1 行应为列名（表头），但该行是空的。请使用下载的模板填写。")
MSG_MISSING = _("excel_missing_columns", default="缺少列：${columns}。")
MSG_UNEXPECTED = _("excel_unexpected_columns", default="无法识别的列：${columns}。")
MSG_DUPLICATE = _("excel_duplicate_columns", default="列名重复：${columns}。")
MSG_HEADERS_HINT = _("excel_headers_hint", default="请使用下载的模板，不要修改第 1 行的列名。")
MSG_TOO_MANY_ROWS = _("excel_too_many_rows", default="数据超过 ${limit} 行，请拆分为多个文件分批导入。")
MSG_NO_ROWS = _("excel_no_rows", default="文件中没有数据行。")
MSG_READING = _("excel_progress_reading", default="正在读取第 ${row} 行……")
MSG_CHECKED = _("excel_progress_checked", default="已检查 ${rows} 行，发现 ${errors} 行有错误。")

MSG_REQUIRED = _("excel_required", default="必填项不能为空")
MSG_TOO_LONG = _("excel_too_long", default="不能超过 ${max} 个字")
MSG_INT = _("excel_int", default="应为整数")
MSG_DECIMAL = _("excel_decimal", default="应为数字")
MSG_DATE = _("excel_date", default="日期格式应为 2024-06-18")
MSG_CHOICE = _("excel_choice", default="应为以下选项之一：${choices}")
MSG_ID = _("excel_id_number", default="身份证号码无效（请检查位数、出生日期和校验位；请以文本格式填写）")
MSG_USCC = _("excel_uscc", default="统一社会信用代码无效（请检查 18 位代码及校验位）")
MSG_MOBILE = _("excel_mobile", default="手机号码无效（应为以 1 开头的 11 位数字）")
MSG_EMAIL = _("excel_email", default="邮箱格式不正确")
MSG_ROW_REASON = _("excel_row_reason", default="第 ${row} 行「${column}」：${reason}")
MSG_ROW_REASON_NOCOL = _("excel_row_reason_nocol", default="第 ${row} 行：${reason}")

HINT_REQUIRED = _("excel_hint_required", default="必填")
HINT_OPTIONAL = _("excel_hint_optional", default="选填")
HINTS = {
    "text": _("excel_hint_text", default="文本"),
    "int": _("excel_hint_int", default="整数"),
    "decimal": _("excel_hint_decimal", default="数字"),
    "date": _("excel_hint_date", default="日期，如 2024-06-18"),
    "choice": _("excel_hint_choice", default="从下拉列表选择"),
    "id_number": _("excel_hint_id_number", default="18 位身份证号（文本格式）"),
    "uscc": _("excel_hint_uscc", default="18 位统一社会信用代码"),
    "mobile": _("excel_hint_mobile", default="11 位手机号码"),
    "email": _("excel_hint_email", default="邮箱地址"),
}


def tr(message) -> str:
    """Chinese text of *message* (the site's language; defaults are Chinese)."""
    if isinstance(message, Message):
        return str(_translate(message, target_language="zh_CN"))
    return "" if message is None else str(message)


class ExcelError(ValueError):
    """The file as a whole is refused (format, size, headers); ``message`` says why, in Chinese."""

    def __init__(self, message):
        self.message = tr(message)
        super().__init__(self.message)


class RowInvalid(ValueError):
    """Raised by ``handle_row`` for a row that cannot be saved; *column* is a header or field id."""

    def __init__(self, message, column: str | None = None):
        self.message = tr(message)
        self.column = column
        super().__init__(self.message)


@dataclasses.dataclass
class Column:
    header: str  # the Chinese column name in row 1
    field: str  # the key in the row dict
    required: bool = False
    type: str = "text"
    choices: dict | None = None  # value -> label (choice); the sheet shows labels
    max_length: int | None = None
    width: float | None = None  # Excel column width (characters); default from the header
    hint: str | None = None  # extra text for the template's hint row

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"unknown column type {self.type!r}")
        if self.type == "choice" and not self.choices:
            raise ValueError(f"choice column {self.header!r} needs choices")

    def hint_text(self) -> str:
        parts = [tr(HINT_REQUIRED if self.required else HINT_OPTIONAL), tr(HINTS[self.type])]
        if self.max_length:
            parts.append(tr(_("excel_hint_max", default="最多 ${max} 字", mapping={"max": self.max_length})))
        if self.hint:
            parts.append(tr(self.hint))
        return "；".join(parts)

    def labels(self) -> list[str]:
        return [str(v) for v in (self.choices or {}).values()]


def neutralise(value):
    """A string a spreadsheet would run as a formula gets a leading apostrophe; others unchanged."""
    if isinstance(value, str) and value and value[0] in DANGEROUS:
        return "'" + value
    return value


def _display_width(text: str) -> int:
    return sum(2 if ord(c) > 0x2E80 else 1 for c in str(text))


def _width(column: Column) -> float:
    if column.width:
        return column.width
    base = {"id_number": 22, "uscc": 22, "mobile": 15, "email": 26, "date": 13}.get(column.type, 12)
    return max(base, _display_width(column.header) + 4)


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_title(title: str) -> str:
    """A valid sheet name (Chinese is fine): no []:*?/\\, at most 31 characters."""
    title = _SHEET_BAD.sub("_", str(title or "Sheet")).strip("'") or "Sheet"
    return title[:31]


# --- export ------------------------------------------------------------------------------------


def _cell_value(column: Column, value):
    if value is None:
        return None
    if column.type == "choice" and column.choices and value in column.choices:
        value = column.choices[value]
    if isinstance(value, (list, tuple, set)):
        value = "、".join(str(v) for v in value)
    elif isinstance(value, Message):
        value = tr(value)
    return neutralise(value) if isinstance(value, str) else value


def export_xlsx(rows, columns: list[Column], title: str = "数据") -> bytes:
    """An .xlsx of *rows* (dicts keyed by field id, or sequences in column order), streamed with
    openpyxl's write_only mode: bold header, column widths, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment
    from openpyxl.styles import Font
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(tr(title)))
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(column)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE5F0")
    center = Alignment(horizontal="center", vertical="center")
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=neutralise(column.header))
        cell.font, cell.fill, cell.alignment = bold, fill, center
        header.append(cell)
    sheet.append(header)
    fields = [c.field for c in columns]
    for row in rows:
        if isinstance(row, dict):
            values = [row.get(f) for f in fields]
        else:
            values = list(row)
        sheet.append([_cell_value(c, v) for c, v in zip(columns, values)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_xlsx(columns: list[Column], title: str = "导入模板", rows: int = 10_000) -> bytes:
    """The import template: header row, a hint row (skipped on import), drop-down lists for
    choice columns, text format for code columns (so Excel keeps 18-digit ID numbers intact)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment
    from openpyxl.styles import Font
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(tr(title))
    options = None
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = _width(column) + 4
        head = sheet.cell(row=1, column=index, value=column.header)
        head.font = Font(bold=True, color="C00000" if column.required else "000000")
        head.fill = PatternFill("solid", fgColor="DDE5F0")
        head.alignment = Alignment(horizontal="center", vertical="center")
        hint = sheet.cell(row=2, column=index, value=column.hint_text())
        hint.font = Font(italic=True, color="808080", size=9)
        hint.alignment = Alignment(wrap_text=True, vertical="top")
        data_range = f"{letter}3:{letter}{rows + 2}"
        if column.type in ("id_number", "uscc", "mobile", "text"):
            sheet.column_dimensions[letter].number_format = "@"  # the whole column as text
        if column.type == "choice":
            labels = column.labels()
            inline = ",".join(labels)
            if len(inline) <= 250 and not any("," in label for label in labels):
                formula = f'"{inline}"'
            else:
                if options is None:
                    options = workbook.create_sheet("选项")
                    options.sheet_state = "hidden"
                for r, label in enumerate(labels, start=1):
                    options.cell(row=r, column=index, value=label)
                formula = f"'选项'!${letter}$1:${letter}${len(labels)}"
            validation = DataValidation(type="list", formula1=formula, allow_blank=not column.required)
            validation.error = tr(Message(MSG_CHOICE, mapping={"choices": "、".join(labels)}))
            validation.errorTitle = tr(_("excel_invalid_value", default="输入值无效"))
            validation.showErrorMessage = True
            sheet.add_data_validation(validation)
            validation.add(data_range)
    sheet.row_dimensions[2].height = 30
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- import ------------------------------------------------------------------------------------


@dataclasses.dataclass
class RowError:
    row: int  # the row number in the sheet (1 = header)
    column: str  # the header of the column ("" when the whole row is at fault)
    value: str
    reason: str  # Chinese

    def text(self) -> str:
        if self.column:
            return tr(Message(MSG_ROW_REASON, mapping={"row": self.row, "column": self.column, "reason": self.reason}))
        return tr(Message(MSG_ROW_REASON_NOCOL, mapping={"row": self.row, "reason": self.reason}))


@dataclasses.dataclass
class ImportReport:
    headers: list = dataclasses.field(default_factory=list)  # as found in row 1, in order
    rows: int = 0  # data rows read (empty rows and the hint row not counted)
    saved: int = 0  # rows handle_row accepted (0 saved when all_or_nothing and any failed)
    errors: list = dataclasses.field(default_factory=list)  # RowError, in row order
    bad_rows: dict = dataclasses.field(default_factory=dict)  # row number -> original values
    bad_row_count: int = 0  # all bad rows, also those beyond MAX_REPORTED_ROWS
    all_or_nothing: bool = True

    @property
    def ok(self) -> bool:
        return self.bad_row_count == 0

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "saved": self.saved,
            "bad_rows": self.bad_row_count,
            "errors": [dataclasses.asdict(e) for e in self.errors[:50]],
        }

    def message(self) -> str:
        """One Chinese sentence for the user."""
        if self.ok:
            return tr(_("excel_import_ok", default="导入成功：共 ${rows} 行。", mapping={"rows": self.saved}))
        first = "；".join(e.text() for e in self.errors[:3])
        if self.all_or_nothing:
            return tr(
                _(
                    "excel_import_failed_all",
                    default="共 ${rows} 行中有 ${bad} 行有错误，所有数据均未导入。请下载错误报告，修改后重新上传整个文件。${first}",
                    mapping={"rows": self.rows, "bad": self.bad_row_count, "first": first},
                )
            )
        return tr(
            _(
                "excel_import_failed_some",
                default="已导入 ${saved} 行；${bad} 行有错误未导入，请下载错误报告。${first}",
                mapping={"saved": self.saved, "bad": self.bad_row_count, "first": first},
            )
        )


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ") if (value.hour, value.minute, value.second) != (0, 0, 0) else value.date().isoformat()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in DANGEROUS:
        text = text[1:]  # our own neutralising apostrophe
    return text


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def _parse(column: Column, raw):
    """(value, reason): the cell as the column's type, or a Chinese reason it is not one."""
    text = _plain(raw)
    if text == "":
        return (None, MSG_REQUIRED) if column.required else (None, None)
    kind = column.type
    if kind == "text":
        if column.max_length and len(text) > column.max_length:
            return None, Message(MSG_TOO_LONG, mapping={"max": column.max_length})
        return text, None
    if kind == "int":
        if isinstance(raw, bool):
            return None, MSG_INT
        if isinstance(raw, int):
            return raw, None
        if isinstance(raw, float):
            return (int(raw), None) if raw.is_integer() else (None, MSG_INT)
        return (int(text), None) if re.fullmatch(r"[-+]?\d+", text.replace(",", "")) else (None, MSG_INT)
    if kind == "decimal":
        try:
            number = decimal.Decimal(text.replace(",", ""))
        except decimal.InvalidOperation:
            return None, MSG_DECIMAL
        return (number, None) if number.is_finite() else (None, MSG_DECIMAL)
    if kind == "date":
        if isinstance(raw, datetime.datetime):
            return raw.date(), None
        if isinstance(raw, datetime.date):
            return raw, None
        match = _DATE_TEXT.match(text)
        if match:
            try:
                return datetime.date(*(int(g) for g in match.groups())), None
            except ValueError:
                pass
        return None, MSG_DATE
    if kind == "choice":
        for key, label in column.choices.items():
            if text == str(label) or text == str(key):
                return key, None
        return None, Message(MSG_CHOICE, mapping={"choices": "、".join(column.labels())})
    if kind == "id_number":
        value = text.upper()
        return (value, None) if is_valid_id_number(value) else (None, MSG_ID)
    if kind == "uscc":
        value = text.upper()
        return (value, None) if is_valid_uscc(value) else (None, MSG_USCC)
    if kind == "mobile":
        value = re.sub(r"[\s\-()]", "", text)
        if value.startswith("+86"):
            value = value[3:]
        return (value, None) if re.fullmatch(r"1[3-9]\d{9}", value) else (None, MSG_MOBILE)
    if kind == "email":
        return (text, None) if _EMAIL.match(text) and len(text) <= 254 else (None, MSG_EMAIL)
    raise AssertionError(kind)


def _open_sheet(data: bytes, max_bytes: int):
    from openpyxl import load_workbook

    if not data:
        raise ExcelError(MSG_EMPTY)
    if len(data) > max_bytes:
        raise ExcelError(
            Message(MSG_TOO_LARGE, mapping={"size": f"{len(data) / 1048576:.1f}", "limit": f"{max_bytes / 1048576:g}"})
        )
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ExcelError(MSG_OLD_XLS)
    if data[:4] != b"PK\x03\x04":
        raise ExcelError(MSG_NOT_XLSX)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ExcelError(MSG_NOT_XLSX) from exc
    sheets = [ws for ws in workbook.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
    if not sheets:
        workbook.close()
        raise ExcelError(MSG_NO_SHEET)
    return workbook, sheets[0]


def _match_headers(header_row, columns: list[Column]):
    """{position: Column} for row 1; raises ExcelError naming missing/unexpected columns."""
    found = [_plain(v) for v in header_row]
    while found and found[-1] == "":
        found.pop()
    if not found:
        raise ExcelError(MSG_NO_HEADER)
    by_header = {c.header: c for c in columns}
    reason = tr(REASON_HEADER)
    positions, unexpected, seen, duplicate = {}, [], set(), []
    for index, name in enumerate(found):
        if name == "" or name == reason:  # blank separator columns; an error report's reasons
            continue
        if name in seen:
            duplicate.append(name)
        seen.add(name)
        column = by_header.get(name)
        if column is None:
            unexpected.append(name)
        else:
            positions[index] = column
    missing = [c.header for c in columns if c.header not in seen and c.required]
    problems = []
    if missing:
        problems.append(tr(Message(MSG_MISSING, mapping={"columns": "、".join(missing)})))
    if unexpected:
        problems.append(tr(Message(MSG_UNEXPECTED, mapping={"columns": "、".join(unexpected)})))
    if duplicate:
        problems.append(tr(Message(MSG_DUPLICATE, mapping={"columns": "、".join(duplicate)})))
    if problems:
        raise ExcelError("".join(problems) + tr(MSG_HEADERS_HINT))
    return found, positions


def check_file(data: bytes, columns: list[Column], max_bytes: int = MAX_BYTES) -> list[str]:
    """Refuse a file before queueing its import: format, size and row 1 only (fast). Returns the
    headers found; raises :class:`ExcelError`."""
    workbook, sheet = _open_sheet(data, max_bytes)
    try:
        header_row = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), None)
        if header_row is None:
            raise ExcelError(MSG_NO_HEADER)
        found, _positions = _match_headers(header_row, columns)
        return found
    finally:
        workbook.close()


def import_xlsx(
    data: bytes,
    columns: list[Column],
    handle_row: Callable[[dict], Any],
    progress: Callable | None = None,
    all_or_nothing: bool = True,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> ImportReport:
    """Read *data* row by row, check each cell against its column, hand good rows to
    ``handle_row(values)`` (values: field id → parsed value; it raises :class:`RowInvalid` for a
    row it cannot save) and report every bad row. See the module docstring for all-or-nothing."""
    import transaction

    workbook, sheet = _open_sheet(data, max_bytes)
    report = ImportReport(all_or_nothing=all_or_nothing)
    try:
        total = sheet.max_row if isinstance(sheet.max_row, int) and sheet.max_row > 1 else None
        if total is not None and total - 1 > max_rows + 1:  # +1: the hint row
            raise ExcelError(Message(MSG_TOO_MANY_ROWS, mapping={"limit": max_rows}))
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise ExcelError(MSG_NO_HEADER)
        found, positions = _match_headers(header_row, columns)
        report.headers = found
        width = len(found)
        hints = {index: column.hint_text() for index, column in positions.items()}
        last_report = time.monotonic()
        for number, raw in enumerate(rows, start=2):
            raw = tuple(raw[:width]) + (None,) * (width - len(raw))
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
                continue
            if number == 2 and all(raw[i] in (None, hint) for i, hint in hints.items()):
                continue  # the template's hint row
            report.rows += 1
            if report.rows > max_rows:
                raise ExcelError(Message(MSG_TOO_MANY_ROWS, mapping={"limit": max_rows}))
            values, errors = {}, []
            for index, column in positions.items():
                value, reason = _parse(column, raw[index])
                if reason is not None:
                    errors.append(RowError(number, column.header, _plain(raw[index]), tr(reason)))
                else:
                    values[column.field] = value
            for column in columns:  # optional columns absent from the file
                values.setdefault(column.field, None)
            if not errors:
                savepoint = None if all_or_nothing else transaction.savepoint(optimistic=True)
                try:
                    handle_row(values)
                    report.saved += 1
                except RowInvalid as exc:
                    if savepoint is not None:
                        savepoint.rollback()
                    header = _header_of(exc.column, columns)
                    value = _plain(raw[_position(header, found)]) if header in found else ""
                    errors.append(RowError(number, header, value, exc.message))
            if errors:
                report.bad_row_count += 1
                if len(report.bad_rows) < MAX_REPORTED_ROWS:
                    report.bad_rows[number] = list(raw)
                    report.errors.extend(errors)
            if progress is not None and time.monotonic() - last_report >= 0.5:
                last_report = time.monotonic()
                percent = min(99.0, 100.0 * number / total) if total else None
                progress(percent, Message(MSG_READING, mapping={"row": number}))
    finally:
        workbook.close()
    if report.rows == 0:
        raise ExcelError(MSG_NO_ROWS)
    if not report.ok and all_or_nothing:
        report.saved = 0
        transaction.doom()
    if progress is not None:
        progress(100.0 if report.ok else None, Message(MSG_CHECKED, mapping={"rows": report.rows, "errors": report.bad_row_count}))
    return report


def _header_of(column: str | None, columns: list[Column]) -> str:
    if not column:
        return ""
    for c in columns:
        if column in (c.field, c.header):
            return c.header
    return column


def _position(header: str, found: list[str]) -> int:
    return found.index(header)


def error_report_xlsx(report: ImportReport, title: str = "错误报告") -> bytes:
    """The bad rows as they were uploaded, with a 错误原因 column; bad cells and reasons in red."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment
    from openpyxl.styles import Font
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(tr(title)))
    headers = list(report.headers) + [tr(REASON_HEADER)]
    for index, name in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, _display_width(name) + 4)
    sheet.column_dimensions[get_column_letter(len(headers))].width = 60
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    red_fill = PatternFill("solid", fgColor="FFC7CE")
    red_font = Font(color="9C0006")
    header_cells = []
    for name in headers:
        cell = WriteOnlyCell(sheet, value=neutralise(name))
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDE5F0")
        header_cells.append(cell)
    sheet.append(header_cells)
    by_row: dict[int, list[RowError]] = {}
    for error in report.errors:
        by_row.setdefault(error.row, []).append(error)
    wrap = Alignment(wrap_text=True, vertical="top")
    for number in sorted(report.bad_rows):
        errors = by_row.get(number, [])
        bad_columns = {e.column for e in errors}
        cells = []
        for name, value in zip(report.headers, report.bad_rows[number]):
            cell = WriteOnlyCell(sheet, value=neutralise(value) if isinstance(value, str) else value)
            if name in bad_columns:
                cell.fill, cell.font = red_fill, red_font
            cells.append(cell)
        reason = WriteOnlyCell(sheet, value=neutralise("；".join(e.text() for e in errors)))
        reason.fill, reason.font, reason.alignment = red_fill, red_font, wrap
        cells.append(reason)
        sheet.append(cells)
    if report.bad_row_count > len(report.bad_rows):
        sheet.append(
            [tr(_("excel_more_errors", default="另有 ${count} 行错误未列出。", mapping={"count": report.bad_row_count - len(report.bad_rows)}))]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
