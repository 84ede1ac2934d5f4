"""excel: export, template and import of .xlsx files, as a user of the files would notice.

* an export opens in Excel (openpyxl here) with a bold, frozen header and a Chinese sheet name,
  and an import of it gives back the same values;
* text that a spreadsheet would run as a formula is neutralised;
* a bad row is reported with row, column, value and a Chinese reason, in an error report the
  user downloads, and nothing from the file is saved;
* files that are not .xlsx, too large, or have the wrong columns are refused in Chinese.
"""

from __future__ import annotations

import datetime
import decimal
import io
import zipfile

import pytest
import transaction
from openpyxl import Workbook
from openpyxl import load_workbook
from plone import api
from plone.app.testing import TEST_USER_ID
from plone.app.testing import setRoles

from finserv.core.excel import Column
from finserv.core.excel import ExcelError
from finserv.core.excel import RowInvalid
from finserv.core.excel import error_report_xlsx
from finserv.core.excel import export_xlsx
from finserv.core.excel import import_xlsx
from finserv.core.excel import template_xlsx

COLUMNS = [
    Column("名称", "name", required=True, max_length=20),
    Column("统一社会信用代码", "uscc", type="uscc"),
    Column("身份证号", "id_number", type="id_number"),
    Column("手机号码", "mobile", type="mobile"),
    Column("人数", "staff", type="int"),
    Column("金额（万元）", "amount", type="decimal"),
    Column("成立日期", "founded", type="date"),
    Column("类别", "kind", type="choice", choices={"bank": "银行", "insurer": "保险公司"}),
]
USCC = "91310000132149237G"
ID_NUMBER = "11010519491231002X"


def good_row(**overrides):
    row = {
        "name": "上海某某银行",
        "uscc": USCC,
        "id_number": ID_NUMBER,
        "mobile": "13800138000",
        "staff": 120,
        "amount": decimal.Decimal("1234.5"),
        "founded": datetime.date(2001, 5, 8),
        "kind": "bank",
    }
    row.update(overrides)
    return row


def sheet_of(data: bytes, **kwargs):
    return load_workbook(io.BytesIO(data), **kwargs).worksheets[0]


def xlsx(rows):
    """An .xlsx with *rows* (first row = header) as a user would make it in Excel."""
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def collect(data, columns=COLUMNS, **kwargs):
    saved = []
    report = import_xlsx(data, columns, saved.append, **kwargs)
    return report, saved


# --- export and round trip ---------------------------------------------------------------------


def test_export_opens_with_a_bold_frozen_header_and_chinese_sheet_name_and_reads_back_the_same():
    rows = [good_row(), good_row(name="某保险公司", kind="insurer", staff=8, mobile=None, founded=datetime.date(2019, 1, 2))]
    data = export_xlsx(rows, COLUMNS, title="金融机构名录")
    sheet = sheet_of(data)
    assert sheet.title == "金融机构名录"
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 20  # the credit code fits
    assert sheet["H2"].value == "银行" and sheet["H3"].value == "保险公司"  # labels, not keys
    assert sheet["E2"].value == 120 and sheet["G2"].value.date() == datetime.date(2001, 5, 8)

    report, saved = collect(data)
    assert report.ok and report.rows == 2 and report.saved == 2
    assert saved[0] == good_row()
    assert saved[1]["kind"] == "insurer" and saved[1]["mobile"] is None


def test_sheet_names_with_characters_excel_forbids_are_cleaned():
    data = export_xlsx([], COLUMNS, title="2024/06 名单：[草稿]*")
    assert sheet_of(data).title == "2024_06 名单：_草稿__"  # the full-width colon is allowed


def test_cells_that_would_run_as_formulas_are_neutralised():
    evil = ["=HYPERLINK(\"http://x\",\"点我\")", "+86 138", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
    rows = [good_row(name=value) for value in evil]
    data = export_xlsx(rows, COLUMNS, title="数据")
    sheet = sheet_of(data)
    cells = [sheet.cell(row=r, column=1) for r in range(2, 2 + len(evil))]
    assert all(c.data_type == "s" for c in cells)  # text, never a formula ("f")
    assert [c.value for c in cells] == ["'" + v for v in evil]
    # plain text and numbers are left alone
    plain = sheet_of(export_xlsx([good_row(name="普通文本", staff=-5)], COLUMNS))
    assert plain["A2"].value == "普通文本" and plain["E2"].value == -5
    # an import of the export gives back the original text
    report, saved = collect(export_xlsx([good_row(name="=1+1")], COLUMNS))
    assert saved[0]["name"] == "=1+1"


def test_template_has_headers_a_hint_row_and_drop_down_lists_and_imports_once_filled():
    data = template_xlsx(COLUMNS)
    wb = load_workbook(io.BytesIO(data))
    sheet = wb.worksheets[0]
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    assert sheet["A2"].value.startswith("必填") and sheet["B2"].value.startswith("选填")
    lists = [dv for dv in sheet.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and "银行" in lists[0].formula1 and "H3" in str(lists[0].sqref)
    assert sheet.column_dimensions["C"].number_format == "@"  # ID numbers typed as text keep their 18 digits
    # a user fills it in below the hint row
    sheet.append(["某银行", USCC, ID_NUMBER, "13900139000", 3, 9.5, datetime.datetime(2020, 1, 1), "银行"])
    buffer = io.BytesIO()
    wb.save(buffer)
    report, saved = collect(buffer.getvalue())
    assert report.ok and report.rows == 1
    assert saved[0]["kind"] == "bank" and saved[0]["founded"] == datetime.date(2020, 1, 1)


def test_long_choice_lists_go_to_a_hidden_sheet():
    many = {f"k{i}": f"选项{i:03d}（较长的说明文字）" for i in range(40)}
    data = template_xlsx([Column("类别", "kind", type="choice", choices=many)])
    wb = load_workbook(io.BytesIO(data))
    assert wb["选项"].sheet_state == "hidden"
    assert "选项" in wb.worksheets[0].data_validations.dataValidation[0].formula1


# --- bad rows ----------------------------------------------------------------------------------


def test_each_bad_cell_is_reported_with_row_column_value_and_a_chinese_reason():
    header = [c.header for c in COLUMNS]
    data = xlsx(
        [
            header,
            ["好银行", USCC, ID_NUMBER, "13800138000", 10, 1, "2020-01-01", "银行"],
            ["", "91310000132149237A", "110105194912310021", "1380013800", "十", "abc", "2020-13-01", "信托"],
            ["名称超过二十个字的某某某某某某某某某某某某某某某某某", None, None, None, 1.5, None, "2020年1月2日", None],
        ]
    )
    report, saved = collect(data)
    assert not report.ok and report.bad_row_count == 2 and report.rows == 3
    found = {(e.row, e.column): e.reason for e in report.errors}
    assert found[(3, "名称")] == "必填项不能为空"
    assert "统一社会信用代码无效" in found[(3, "统一社会信用代码")]
    assert "身份证号码无效" in found[(3, "身份证号")]
    assert "手机号码无效" in found[(3, "手机号码")]
    assert found[(3, "人数")] == "应为整数"
    assert found[(3, "金额（万元）")] == "应为数字"
    assert "2024-06-18" in found[(3, "成立日期")]
    assert found[(3, "类别")] == "应为以下选项之一：银行、保险公司"
    assert found[(4, "名称")] == "不能超过 20 个字"
    assert found[(4, "人数")] == "应为整数"
    assert (4, "成立日期") not in found  # 2020年1月2日 is a date
    assert [e.value for e in report.errors if (e.row, e.column) == (3, "手机号码")] == ["1380013800"]
    assert "2 行有错误" in report.message() and "所有数据均未导入" in report.message()


def test_a_bad_row_means_nothing_from_the_file_is_saved_and_the_error_report_shows_why(portal):
    setRoles(portal, TEST_USER_ID, ["Manager"])
    columns = [Column("标题", "title", required=True), Column("邮箱", "email", required=True, type="email")]

    def handle_row(values):
        if values["title"] == "重复":
            raise RowInvalid("标题已存在", column="title")
        api.content.create(container=portal, type="Document", id=f"doc-{values['email'].split('@')[0]}", title=values["title"])

    data = xlsx([["标题", "邮箱"], ["通知一", "a@example.cn"], ["重复", "b@example.cn"], ["通知三", "不是邮箱"], ["通知四", "d@example.cn"]])
    report = import_xlsx(data, columns, handle_row)
    assert not report.ok and report.saved == 0
    assert transaction.get().isDoomed()  # a commit would raise DoomedTransaction: abort is all there is
    transaction.abort()
    assert "doc-a" not in portal and "doc-d" not in portal

    sheet = sheet_of(error_report_xlsx(report))
    assert [c.value for c in sheet[1]] == ["标题", "邮箱", "错误原因"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows == [
        ["重复", "b@example.cn", "第 3 行「标题」：标题已存在"],
        ["通知三", "不是邮箱", "第 4 行「邮箱」：邮箱格式不正确"],
    ]
    assert sheet["C2"].fill.fgColor.rgb.endswith("FFC7CE")  # red
    assert sheet["A2"].fill.fgColor.rgb.endswith("FFC7CE") and sheet["B2"].fill.fgColor.rgb != sheet["A2"].fill.fgColor.rgb


def test_row_by_row_mode_keeps_the_good_rows_and_rolls_back_the_bad_ones(portal):
    setRoles(portal, TEST_USER_ID, ["Manager"])
    columns = [Column("标题", "title", required=True)]

    def handle_row(values):
        api.content.create(container=portal, type="Document", id=f"doc-{len(portal.objectIds())}", title=values["title"])
        if values["title"] == "坏":
            raise RowInvalid("不允许")

    before = set(portal.objectIds())
    report = import_xlsx(xlsx([["标题"], ["好一"], ["坏"], ["好二"]]), columns, handle_row, all_or_nothing=False)
    assert report.saved == 2 and report.bad_row_count == 1
    assert not transaction.get().isDoomed()
    titles = sorted(portal[i].title for i in set(portal.objectIds()) - before)
    assert titles == ["好一", "好二"]


def test_progress_is_reported_while_reading():
    calls = []
    rows = [good_row() for _i in range(3)]
    collect(export_xlsx(rows, COLUMNS), progress=lambda percent, message: calls.append((percent, message)))
    assert calls and calls[-1][0] == 100.0


# --- refused files -----------------------------------------------------------------------------


def test_missing_and_unexpected_columns_are_named_in_chinese():
    data = xlsx([["名称", "年龄", "统一社会信用代码"], ["某银行", 3, USCC]])
    columns = COLUMNS + [Column("联系人", "contact", required=True)]
    with pytest.raises(ExcelError) as info:
        import_xlsx(data, columns, lambda values: None)
    assert "缺少列：联系人。" in info.value.message
    assert "无法识别的列：年龄。" in info.value.message
    assert "请使用下载的模板" in info.value.message


def test_an_empty_first_row_or_a_file_without_data_rows_is_refused():
    with pytest.raises(ExcelError) as info:
        import_xlsx(xlsx([[None], ["x"]]), COLUMNS, lambda values: None)
    assert "第 1 行应为列名" in info.value.message
    with pytest.raises(ExcelError) as info:
        import_xlsx(template_xlsx(COLUMNS), COLUMNS, lambda values: None)
    assert info.value.message == "文件中没有数据行。"


def test_files_that_are_not_xlsx_are_refused_in_chinese():
    cases = {
        b"name,uscc\n\xe6\x9f\x90,1\n": "不是有效的 .xlsx 文件",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512: "另存为",
        b"": "空的",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # a zip, but not a workbook
        archive.writestr("readme.txt", "hello")
    cases[buffer.getvalue()] = "不是有效的 .xlsx 文件"
    for data, text in cases.items():
        with pytest.raises(ExcelError) as info:
            import_xlsx(data, COLUMNS, lambda values: None)
        assert text in info.value.message


def test_files_over_the_size_limit_and_too_many_rows_are_refused():
    data = export_xlsx([good_row() for _i in range(30)], COLUMNS)
    with pytest.raises(ExcelError) as info:
        import_xlsx(data, COLUMNS, lambda values: None, max_bytes=1000)
    assert "文件过大" in info.value.message and "上限为" in info.value.message
    with pytest.raises(ExcelError) as info:
        import_xlsx(data, COLUMNS, lambda values: None, max_rows=10)
    assert "数据超过 10 行" in info.value.message
