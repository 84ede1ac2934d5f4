"""core/calc: versioned parameter sets, safe formulas, Decimal money and a trace a reviewer can read."""

from datetime import date
from decimal import Decimal
from finserv.core import calc
from finserv.core.calc import CalcError
from finserv.core.calc import ExpressionError

import copy
import types
import json
import pytest


def minimal(**overrides):
    """A small, valid parameter set: base by income bracket × factor by institution type, capped."""
    content = {
        "inputs": {
            "income": {"label": "年收入", "type": "money", "unit": "元"},
            "kind": {"label": "机构类型", "type": "category", "category": "kinds"},
        },
        "categories": {"kinds": {"label": "机构类型", "items": {"bank": "银行", "fund": "基金"}}},
        "brackets": {
            "base_award": {
                "label": "基础奖励",
                "hit_policy": "unique",
                "unit": "元",
                "rows": [
                    {"low": "0", "high": "300000", "value": "0", "reference": "第八条"},
                    {"low": "300000", "high": "600000", "value": "25000", "reference": "第八条"},
                    {"low": "600000", "high": None, "value": "50000", "reference": "第八条"},
                ],
            }
        },
        "factors": {
            "kind_factor": {
                "label": "机构系数",
                "category": "kinds",
                "entries": {
                    "bank": {"value": "1.0", "reason": "标准", "reference": "第九条"},
                    "fund": {"value": "1.2", "reason": "重点领域", "reference": "第九条"},
                },
            }
        },
        "constants": {"max_award": {"label": "最高奖励", "value": "55000", "unit": "元", "reference": "第十条"}},
        "formulas": [
            {"name": "base", "label": "基础奖励额", "unit": "元", "expression": "lookup(base_award, income)"},
            {
                "name": "award",
                "label": "奖励金额",
                "unit": "元",
                "expression": "base * factor(kind_factor, kind)",
                "cap": "max_award",
                "reference": "第十条",
            },
        ],
        "rounding": "yuan",
    }
    data = {
        "id": "t-1",
        "title": "测试办法",
        "version": 1,
        "effective_from": "2025-01-01",
        "status": "published",
        "reference": "《测试办法》",
        "content": content,
    }
    for key, value in overrides.items():
        data[key] = value
    return data


def version(data=None):
    return calc.PolicyVersion.from_dict(data or minimal())


def examples():
    return calc.load_versions(sorted(calc.EXAMPLES.glob("*.json")))


def ev(source, **env):
    """Evaluate a bare expression with the given names (values converted to Decimal)."""

    ctx = types.SimpleNamespace()
    ctx.env = {k: Decimal(v) if isinstance(v, str) and v[-1:].isdigit() else v for k, v in env.items()}
    return calc.parse(source).evaluate(ctx)


# --- brackets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("income", "row", "base"),
    [
        ("299999.99", 1, "0"),
        ("300000", 2, "25000"),  # lower bound is inclusive
        ("599999.99", 2, "25000"),
        ("600000", 3, "50000"),  # upper bound of row 2 is exclusive
        ("99999999", 3, "50000"),  # open-ended last row
    ],
)
def test_bracket_edges_are_inclusive_below_and_exclusive_above(income, row, base):
    result = calc.calculate(version(), {"income": income, "kind": "bank"})
    (step,) = result.steps("bracket")
    assert step.data["number"] == row
    assert step.data["index"] == row - 1
    assert step.data["value"] == Decimal(base)
    assert step.data["reference"] == "第八条"


def test_inclusive_upper_edge_is_honoured():
    data = minimal()
    rows = data["content"]["brackets"]["base_award"]["rows"]
    rows[1].update(high_inclusive=True)
    rows[2].update(low_inclusive=False)
    result = calc.calculate(version(data), {"income": "600000", "kind": "bank"})
    assert result.steps("bracket")[0].data["interval"] == "[300,000, 600,000]"


def test_first_hit_policy_takes_the_first_matching_row():
    data = minimal()
    table = data["content"]["brackets"]["base_award"]
    table["hit_policy"] = "first"
    result = calc.calculate(version(data), {"income": "450000", "kind": "bank"})
    assert result.steps("bracket")[0].data["hit_policy"] == "first"
    assert result.value == Decimal("25000")


def test_value_outside_every_bracket_is_refused_with_the_input_named():
    data = minimal()
    data["content"]["inputs"]["income"]["min"] = "-1000"
    data["content"]["brackets"]["base_award"]["domain"] = {"low": "0", "high": None}
    with pytest.raises(CalcError, match="年收入 -500 不在「基础奖励」的任何档位内"):
        calc.calculate(version(data), {"income": "-500", "kind": "bank"})


# --- factors and caps -------------------------------------------------------------------------


def test_factor_is_looked_up_by_institution_type_with_its_reason():
    result = calc.calculate(version(), {"income": "450000", "kind": "fund"})
    (step,) = result.steps("factor")
    assert (step.data["key"], step.data["key_label"], step.data["value"]) == ("fund", "基金", Decimal("1.2"))
    assert step.data["reason"] == "重点领域"
    assert result.value == Decimal("30000")


def test_cap_is_applied_and_traced():
    result = calc.calculate(version(), {"income": "700000", "kind": "fund"})  # 50,000 × 1.2 = 60,000
    assert result.value == Decimal("55000")
    (cap,) = result.steps("cap")
    assert cap.data["applied"] is True
    assert (cap.data["before"], cap.data["after"], cap.data["limit_name"]) == (
        Decimal("60000.0"),
        Decimal("55000"),
        "max_award",
    )
    assert "超过上限（最高奖励 55,000 元），按上限计 55,000 元（第十条）" in result.explain()


def test_cap_not_reached_is_traced_as_not_applied():
    result = calc.calculate(version(), {"income": "450000", "kind": "bank"})
    assert result.steps("cap")[0].data["applied"] is False
    assert "未超过上限" in result.explain()


def test_floor_lifts_a_small_award_and_says_so():
    (v1, _) = examples()
    result = calc.calculate(v1, {"annual_income": "450000", "institution_type": "other", "years_in_shanghai": 4})
    (floor,) = result.steps("floor")
    assert floor.data["applied"] and result.value == Decimal("20000")


def test_formula_variant_by_institution_type_is_traced():
    data = minimal()
    data["content"]["formulas"][1] = {
        "name": "award",
        "label": "奖励金额",
        "by": "kind",
        "cases": {"bank": "base", "fund": "base * 2"},
    }
    result = calc.calculate(version(data), {"income": "450000", "kind": "fund"})
    (step,) = result.steps("formula")[1:]
    assert step.data["variant"]["key_label"] == "基金"
    assert result.value == Decimal("50000")
    assert "机构类型为「基金」，适用该类型的公式：奖励金额 = 基础奖励额 × 2 = 25,000 × 2 = 50,000" in result.explain()


# --- Decimal money ----------------------------------------------------------------------------


def test_decimal_has_no_float_drift():
    assert ev("0.1 + 0.2") == Decimal("0.3")
    assert ev("a + b", a="0.1", b="0.2") == Decimal("0.3")
    assert ev("x * 3", x="1234567.89") == Decimal("3703703.67")
    assert ev("x - 0.01", x="1234567.89") == Decimal("1234567.88")


def test_money_input_keeps_every_fen():
    data = minimal()
    data["content"]["formulas"] = [{"name": "total", "label": "合计", "expression": "income + 0.1 + 0.2"}]
    data["content"]["rounding"] = "fen"
    result = calc.calculate(version(data), {"income": "1,234,567.89", "kind": "bank"})
    assert result.value == Decimal("1234568.19")
    assert "1,234,568.19" in result.explain()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("round_yuan(2.5)", "3"),
        ("round_yuan(3.5)", "4"),  # not banker's rounding
        ("round_yuan(-2.5)", "-3"),
        ("round_fen(2.675)", "2.68"),  # binary floats would give 2.67
        ("round_fen(1.005)", "1.01"),
        ("round_yuan(27499.49)", "27499"),
    ],
)
def test_rounding_is_half_up(source, expected):
    assert ev(source) == Decimal(expected)


def test_final_rounding_is_traced():
    data = minimal()
    data["content"]["formulas"] = [{"name": "x", "label": "金额", "expression": "income / 3"}]
    result = calc.calculate(version(data), {"income": "1000", "kind": "bank"})
    assert result.value == Decimal("333")
    (step,) = result.steps("round")
    assert step.data["mode"] == "ROUND_HALF_UP" and step.data["unit"] == "yuan"
    assert "按元四舍五入（ROUND_HALF_UP）：333.3333333333333333333333333333333 → 333" in result.explain()


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"kind": "bank"}, "缺少输入「年收入」（income）"),
        ({"income": 450000.5, "kind": "bank"}, "不接受浮点数"),
        ({"income": "abc", "kind": "bank"}, "「年收入」（income）不是有效数值"),
        ({"income": True, "kind": "bank"}, "「年收入」（income）应为数值"),
        ({"income": "-1", "kind": "bank"}, "「年收入」（income）不能为负数"),
        ({"income": "1.001", "kind": "bank"}, "最多两位小数"),
        ({"income": "450000", "kind": "casino"}, "「机构类型」（kind）的取值「casino」不在类别中（可选：银行、基金）"),
        ({"income": "450000", "kind": 3}, "「机构类型」（kind）应为类别取值"),
    ],
)
def test_bad_input_is_refused_with_a_chinese_message_naming_it(inputs, message):
    with pytest.raises(CalcError) as exc:
        calc.calculate(version(), inputs)
    assert message in str(exc.value)


def test_division_by_zero_at_run_time_names_the_formula():
    data = minimal()
    data["content"]["formulas"] = [{"name": "x", "label": "人均", "expression": "income / (income - income)"}]
    with pytest.raises(CalcError, match="公式「人均」：除数为零"):
        calc.calculate(version(data), {"income": "5", "kind": "bank"})


def test_integer_input_refuses_fractions_and_range():
    (v1, _) = examples()
    base = {"annual_income": "450000", "institution_type": "bank"}
    with pytest.raises(CalcError, match="在沪工作年限.*应为整数"):
        calc.calculate(v1, {**base, "years_in_shanghai": "2.5"})
    with pytest.raises(CalcError, match="在沪工作年限.*不能大于 60"):
        calc.calculate(v1, {**base, "years_in_shanghai": 61})


# --- validation -------------------------------------------------------------------------------


def test_the_example_versions_validate():
    for v in examples():
        assert calc.validate(v) == []


def test_validation_catches_overlapping_brackets():
    data = minimal()
    data["content"]["brackets"]["base_award"]["rows"][1]["high"] = "650000"
    errors = calc.validate(data)
    assert any("第 2 档 [300,000, 650,000) 与第 3 档 [600,000, +∞)重叠" in e for e in errors), errors


def test_validation_catches_a_gap_between_brackets():
    data = minimal()
    data["content"]["brackets"]["base_award"]["rows"][1]["high"] = "500000"
    assert any("之间有空缺" in e for e in calc.validate(data))


def test_validation_catches_a_point_gap_and_a_point_overlap():
    data = minimal()
    data["content"]["brackets"]["base_award"]["rows"][2]["low_inclusive"] = False
    assert any("在 600000 处有空缺（两端都不含）" in e for e in calc.validate(data))
    data = minimal()
    data["content"]["brackets"]["base_award"]["rows"][1]["high_inclusive"] = True
    assert any("在 600000 处重叠（两端都含）" in e for e in calc.validate(data))


def test_validation_catches_unordered_rows_and_a_short_domain():
    data = minimal()
    rows = data["content"]["brackets"]["base_award"]["rows"]
    rows[0], rows[1] = rows[1], rows[0]
    assert any("未按从低到高排列" in e for e in calc.validate(data))
    data = minimal()
    data["content"]["brackets"]["base_award"]["domain"] = {"low": "-100", "high": None}
    assert any("第 1 档的下限与值域下限不一致" in e for e in calc.validate(data))


def test_validation_catches_unknown_names_and_tables():
    data = minimal()
    data["content"]["formulas"][1]["expression"] = "base * factor(size_factor, kind) * bonus"
    data["content"]["formulas"][1]["cap"] = "ceiling"
    errors = calc.validate(data)
    assert "公式「奖励金额」引用了未知名称 bonus" in errors
    assert "公式「奖励金额」引用了不存在的系数表 size_factor" in errors
    assert "公式「奖励金额」的上下限引用了不存在的常量 ceiling" in errors


def test_validation_catches_use_before_definition():
    data = minimal()
    formulas = data["content"]["formulas"]
    formulas.reverse()
    assert "公式「奖励金额」引用了未知名称 base（在本公式之后才计算）" in calc.validate(data)


def test_validation_catches_a_bad_formula_and_a_literal_zero_divisor():
    data = minimal()
    data["content"]["formulas"][1]["expression"] = "base * (1 +"
    assert any(e.startswith("公式「奖励金额」：公式语法错误") for e in calc.validate(data))
    data["content"]["formulas"][1]["expression"] = "base / 0"
    assert "公式「奖励金额」除以零：base / 0" in calc.validate(data)


def test_validation_requires_every_category_in_every_factor_table():
    data = minimal()
    del data["content"]["factors"]["kind_factor"]["entries"]["fund"]
    data["content"]["factors"]["kind_factor"]["entries"]["casino"] = {"value": "9", "reason": "x"}
    errors = calc.validate(data)
    assert "系数表「机构系数」缺少「基金」（fund）的取值" in errors
    assert "系数表「机构系数」中的 casino 不是类别「机构类型」的取值" in errors


def test_validation_checks_weights_that_must_sum_to_100():
    data = minimal()
    data["content"]["factors"]["weights"] = {
        "label": "评分权重",
        "category": "kinds",
        "sum_to": "100",
        "entries": {"bank": {"value": "60", "reason": "a"}, "fund": {"value": "30.5", "reason": "b"}},
    }
    assert "系数表「评分权重」各项合计 90.5，应为 100" in calc.validate(data)
    data["content"]["factors"]["weights"]["entries"]["fund"]["value"] = "40.0"
    assert calc.validate(data) == []


def test_an_invalid_version_cannot_compute_or_be_published():
    data = minimal(status="draft")
    data["content"]["brackets"]["base_award"]["rows"][1]["high"] = "500000"
    bad = version(data)
    with pytest.raises(CalcError, match="未通过校验"):
        calc.calculate(bad, {"income": "1", "kind": "bank"})
    approved = calc.transition(version(minimal(status="draft")), "approved", by="处长")
    assert approved.status == "approved" and approved.approved_by == "处长"
    with pytest.raises(CalcError, match="未通过校验，不能已审核"):
        calc.transition(bad, "approved")
    with pytest.raises(CalcError, match="不能从「已发布」变为「草稿」"):
        calc.transition(version(), "draft")


def test_validate_reports_a_structurally_broken_version_instead_of_raising():
    assert calc.validate({"id": "x"}) == ["参数版本缺少 effective_from"]


# --- the expression language refuses anything else --------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("income.__class__", "属性访问"),
        ("().__class__.__bases__[0]", "不允许的语法"),
        ("x[0]", "下标访问"),
        ("__import__('os').system('id')", "不允许调用"),
        ("open('/etc/passwd')", "不允许调用函数 open"),
        ("eval('1')", "不允许调用函数 eval"),
        ("exec('1')", "不允许调用函数 exec"),
        ("import os", "语法错误"),
        ("9 ** 9 ** 9", "不允许乘方"),
        ("(lambda: 1)()", "不允许调用"),
        ("lambda: 1", "lambda"),
        ("[x for x in y]", "列表推导式"),
        ("a if b else c", "if_"),
        ("a and b", "if_"),
        ("_secret", "下划线"),
        ("min(x, key=y)", "关键字参数"),
        ("min(*x)", "星号参数"),
        ("lookup(1, x)", "第一个参数必须是表名"),
        ("if_(a, b)", "if_ 需要 3 个参数"),
        ("x // 2", "不允许的运算符"),
        ("x % 2", "不允许的运算符"),
        ("(" * 300 + "1" + ")" * 300, "公式"),
        ("1" * 50, "数字过长"),
        ("min(" + ", ".join(["x"] * 500) + ")", "过于复杂"),
        ("+".join(["x"] * 600), "嵌套过深"),
        ("x" * 3000, "过长"),
        ("f'{x}'", "格式化字符串"),
        ("(y := 1)", "赋值表达式"),
    ],
)
def test_the_evaluator_refuses_everything_outside_the_language(source, message):
    with pytest.raises(ExpressionError) as exc:
        calc.parse(source)
    assert message in str(exc.value)


def test_the_evaluator_allows_its_whole_language():
    assert ev("if_(a >= 10, max(a, 3) - min(a, 2) / 4, -1)", a="10") == Decimal("9.5")
    assert ev("if_(0 < a <= 5, 1, 2)", a="5") == Decimal(1)
    assert ev('if_(k == "bank", 1, 2)', k="bank") == Decimal(1)
    assert ev("1_000 * 1e3") == Decimal("1000000")


def test_if_evaluates_only_the_chosen_branch():
    assert ev("if_(a > 0, 1 / a, 0)", a="0") == Decimal(0)


def test_arithmetic_on_text_is_refused():
    with pytest.raises(CalcError, match="需要数值"):
        ev("k + 1", k="bank")


def test_never_calls_eval_or_exec():
    from pathlib import Path

    source = "\n".join(p.read_text() for p in Path(calc.__file__).parent.glob("*.py"))
    assert "eval(" not in source.replace(".evaluate(", "").replace("def evaluate(", "")
    assert "exec(" not in source


# --- versions, diff, rollback -----------------------------------------------------------------


def test_the_version_in_force_on_a_date_is_selected():
    v1, v2 = examples()
    assert calc.select_version([v1, v2], date(2025, 6, 30)) is v1
    assert calc.select_version([v1, v2], "2025-07-01") is v2
    assert calc.select_version([v2, v1], date(2030, 1, 1)) is v2
    with pytest.raises(CalcError, match="2024-12-31 没有生效的已发布参数版本"):
        calc.select_version([v1, v2], date(2024, 12, 31))


def test_drafts_are_never_selected():
    v1, v2 = examples()
    draft = calc.derive(v2, id="v3", version=3, effective_from="2025-08-01")
    assert draft.status == "draft"
    assert calc.select_version([v1, v2, draft], date(2025, 9, 1)) is v2


def test_a_version_is_immutable_and_round_trips_through_json():
    v1, _ = examples()
    with pytest.raises(Exception):
        v1.status = "draft"
    with pytest.raises(TypeError):
        v1.content["constants"]["max_award"] = {"value": "1"}
    again = calc.PolicyVersion.from_json(v1.to_json())
    assert again == v1 and again.digest == v1.digest and again.digest.startswith("sm3:")
    json.dumps(calc.calculate(v1, {"annual_income": "450000", "institution_type": "bank", "years_in_shanghai": 1}).to_dict())


def test_diff_lists_the_changed_parameters():
    v1, v2 = examples()
    changes = {c.path: c for c in calc.diff(v1, v2)}
    cap = changes["content.constants.max_award.value"]
    assert (cap.kind, cap.old, cap.new) == ("changed", "200000", "220000")
    assert changes["content.factors.institution_factor.entries.fintech.value"].new == "1.30"
    assert changes["effective_from"].new == "2025-07-01"
    assert "修改 content.constants.max_award.value：200000 → 220000" in [c.text() for c in changes.values()]


def test_diff_of_added_and_removed_bracket_rows():
    a = version()
    data = minimal()
    data["content"]["brackets"]["base_award"]["rows"].append({"low": "900000", "high": None, "value": "1"})
    changes = calc.diff(a, version(data))
    assert [c.kind for c in changes if c.path == "content.brackets.base_award.rows[3]"] == ["added"]


def test_rollback_makes_a_new_version_equal_to_the_old_one():
    v1, v2 = examples()
    back = calc.rollback([v1, v2], "talent-award-2025-v1", new_id="talent-award-2025-v3",
                         effective_from="2025-10-01", author="处长")
    assert (back.id, back.version, back.status) == ("talent-award-2025-v3", 3, "draft")
    assert calc.diff(v1, back) == [
        calc.Change("effective_from", "changed", "2025-01-01", "2025-10-01"),
        calc.Change("effective_to", "changed", "2025-06-30", None),
    ]
    assert back.digest == v1.digest
    assert v2.status == "published"  # history untouched
    with pytest.raises(CalcError, match="已存在"):
        calc.rollback([v1, v2], "talent-award-2025-v1", new_id="talent-award-2025-v2",
                      effective_from="2025-10-01", author="x")


# --- golden cases -----------------------------------------------------------------------------


def test_golden_cases_of_the_talent_award_pass():
    cases = calc.load_cases(calc.EXAMPLES / "talent_award_2025_golden.yaml")
    assert len(cases) >= 10
    assert calc.run_golden(examples(), cases) == []


def test_golden_cases_cover_every_institution_type_and_both_caps():
    cases = calc.load_cases(calc.EXAMPLES / "talent_award_2025_golden.yaml")
    types = {c["inputs"]["institution_type"] for c in cases if "expected" in c}
    v1, v2 = examples()
    assert set(v1.content["categories"]["institution_type"]["items"]) <= types
    results = [
        calc.calculate(calc.select_version([v1, v2], str(c["date"])), c["inputs"]) for c in cases if "expected" in c
    ]
    assert any(s.data["applied"] for r in results for s in r.steps("cap"))
    assert any(s.data["applied"] for r in results for s in r.steps("floor"))


def test_a_wrong_golden_case_is_reported():
    cases = copy.deepcopy(calc.load_cases(calc.EXAMPLES / "talent_award_2025_golden.yaml"))
    cases[0]["expected"] = "25001"
    cases[1]["expected_brackets"] = {"base_award": 2}
    failures = calc.run_golden(examples(), cases)
    assert [f.name for f in failures] == [cases[0]["name"], cases[1]["name"]]
    assert "期望 25001，得到 25000" in str(failures[0])


# --- the trace and its explanation -------------------------------------------------------------


def test_explain_reads_well_in_chinese():
    v1, _ = examples()
    result = calc.calculate(v1, {"annual_income": "450000", "institution_type": "fund", "years_in_shanghai": 4})
    lines = result.explain_lines()
    assert result.value == Decimal("30250")
    assert lines[0].startswith("参数版本：上海金融人才奖（2025 年上半年版）（talent-award-2025-v1 第 1 版")
    assert "年收入 450,000 元落在第 2 档 [300,000, 600,000)，基础奖励 25,000 元（《办法》第八条）" in lines
    assert "机构类型为「基金」，机构类型系数 1.10（资产管理中心建设，适度倾斜；《办法》第九条第一款）" in lines
    assert "在沪工作年限 4 年落在第 2 档 [3, 5)，在沪年限系数 1.10（《办法》第九条第二款）" in lines
    assert (
        "奖励金额 = 基础奖励额 × 机构系数 × 年限系数 = 25,000 × 1.10 × 1.10 = 30,250 元（《办法》第十条）"
        in lines
    )
    assert lines[-1] == "最终金额：30,250 元"


def test_trace_records_version_inputs_and_every_step_in_order():
    v1, _ = examples()
    result = calc.calculate(v1, {"annual_income": "450000", "institution_type": "bank", "years_in_shanghai": 2})
    kinds = [s.kind for s in result.trace]
    assert kinds[:4] == ["version", "input", "input", "input"]
    assert kinds[-1] == "result"
    assert kinds.index("bracket") < kinds.index("factor") < kinds.index("cap") < kinds.index("round")
    assert result.trace[0].data["digest"] == v1.digest
    assert result.version_id == v1.id


def test_trace_can_be_switched_off_with_the_same_value():
    v1, _ = examples()
    inputs = {"annual_income": "1200000", "institution_type": "fund", "years_in_shanghai": 5}
    on = calc.calculate(v1, inputs)
    off = calc.calculate(v1, inputs, trace=False)
    assert on.value == off.value == Decimal("132000") and off.trace == []


def test_manual_adjustment_needs_a_reason_and_is_traced():
    v1, _ = examples()
    result = calc.calculate(v1, {"annual_income": "450000", "institution_type": "bank", "years_in_shanghai": 2})
    with pytest.raises(CalcError, match="必须填写理由"):
        result.adjust("20000", " ", "评审员甲")
    adjusted = result.adjust("20000", "核减", "评审员甲", at="2025-04-02")
    assert adjusted.value == Decimal("20000") and result.value == Decimal("25000")
    assert adjusted.explain_lines()[-1] == "人工调整：25,000 元 → 20,000 元，理由：核减（评审员甲，2025-04-02）"


def test_huge_numbers_fail_cleanly_instead_of_exhausting_memory():
    data = minimal()
    data["content"]["formulas"] = [
        {"name": "x", "label": "巨数", "expression": "income * 1e99999 * 1e99999 * 1e99999"}
    ]
    with pytest.raises(CalcError, match="公式「巨数」计算出错：Overflow"):
        calc.calculate(version(data), {"income": "5", "kind": "bank"})
