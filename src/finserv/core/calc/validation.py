"""Validation before a version is approved, published or used (messages in Chinese)."""

from .errors import CalcError
from .format import interval
from .model import _build_plan
from .model import PolicyVersion


def validate(version):
    """Return a list of problems (empty when the version is sound). Accepts a version or a dict."""
    if not isinstance(version, PolicyVersion):
        try:
            version = PolicyVersion.from_dict(version)
        except CalcError as exc:
            return [str(exc)]
    errors = []
    plan = _build_plan(version.content, errors)
    check(plan, errors)
    if version.effective_to and version.effective_to < version.effective_from:
        errors.append("失效日期早于生效日期")
    return errors


def _check_brackets(table, errors):
    label = f"档位表「{table.label}」"
    rows = table.rows
    for row in rows:
        if row.low is not None and row.high is not None:
            if row.low > row.high or (
                row.low == row.high and not (row.low_inclusive and row.high_inclusive)
            ):
                errors.append(f"{label}第 {row.index + 1} 档 {interval(row)} 是空区间")
    for prev, row in zip(rows, rows[1:]):
        a, b = prev.high, row.low
        where = f"{label}第 {prev.index + 1} 档 {interval(prev)} 与第 {row.index + 1} 档 {interval(row)}"
        if prev.low is not None and row.low is not None and row.low < prev.low:
            errors.append(f"{where}未按从低到高排列")
            continue
        if a is None or b is None:
            errors.append(f"{where}重叠（前一档无上限或后一档无下限）")
        elif a < b:
            errors.append(f"{where}之间有空缺")
        elif a > b:
            errors.append(f"{where}重叠")
        elif prev.high_inclusive and row.low_inclusive:
            errors.append(f"{where}在 {a} 处重叠（两端都含）")
        elif not prev.high_inclusive and not row.low_inclusive:
            errors.append(f"{where}在 {a} 处有空缺（两端都不含）")
    if rows:
        first, last = rows[0], rows[-1]
        if first.low != table.domain_low or (
            first.low is not None and first.low_inclusive != table.domain_low_inclusive
        ):
            errors.append(f"{label}第 1 档的下限与值域下限不一致（值域下限 {table.domain_low}）")
        if last.high != table.domain_high or (
            last.high is not None and last.high_inclusive != table.domain_high_inclusive
        ):
            errors.append(f"{label}最后一档的上限与值域上限不一致（值域上限 {table.domain_high}）")
    for row in rows:
        if not row.reference:
            errors.append(f"{label}第 {row.index + 1} 档缺少政策依据（reference）")


def check(plan, errors):
    """Semantic checks over a compiled plan; appends messages to *errors*."""
    owners = {}
    for kind, group in (
        ("输入", plan.inputs),
        ("常量", plan.constants),
        ("档位表", plan.brackets),
        ("系数表", plan.factors),
    ):
        for name in group:
            if name in owners:
                errors.append(f"名称 {name} 重复（{owners[name]}与{kind}）")
            owners[name] = kind
    for spec in plan.inputs.values():
        if spec.type == "category":
            if spec.category not in plan.categories:
                errors.append(f"输入「{spec.label}」引用的类别 {spec.category} 不存在")
            elif spec.default is not None and spec.default not in plan.categories[spec.category]["items"]:
                errors.append(f"输入「{spec.label}」的默认值 {spec.default} 不在类别中")
    for table in plan.brackets.values():
        _check_brackets(table, errors)
    for table in plan.factors.values():
        label = f"系数表「{table.label}」"
        cat = plan.categories.get(table.category)
        if cat is None:
            errors.append(f"{label}引用的类别 {table.category} 不存在")
        else:
            for key, key_label in cat["items"].items():
                if key not in table.entries:
                    errors.append(f"{label}缺少「{key_label}」（{key}）的取值")
            for key in table.entries:
                if key not in cat["items"]:
                    errors.append(f"{label}中的 {key} 不是类别「{cat['label']}」的取值")
        if table.sum_to is not None:
            total = sum((e.value for e in table.entries.values()), start=type(table.sum_to)(0))
            if total != table.sum_to:
                errors.append(f"{label}各项合计 {total}，应为 {table.sum_to}")
        for entry in table.entries.values():
            if not entry.reason:
                errors.append(f"{label}中 {entry.key} 缺少理由（reason）")
    for const in plan.constants.values():
        if not const.reference:
            errors.append(f"常量「{const.label}」缺少政策依据（reference）")
    defined = set(plan.inputs) | set(plan.constants)
    step_names = set()
    for step in plan.formulas:
        what = f"公式「{step.label}」"
        if step.name in owners or step.name in step_names:
            errors.append(f"{what}的名称 {step.name} 与已有名称重复")
        for expr in step.expressions():
            for name in sorted(expr.names):
                if name not in defined:
                    later = any(s.name == name for s in plan.formulas)
                    hint = "（在本公式之后才计算）" if later else ""
                    errors.append(f"{what}引用了未知名称 {name}{hint}")
            for kind, table in sorted(expr.tables):
                group = plan.brackets if kind == "bracket" else plan.factors
                if table not in group:
                    word = "档位表" if kind == "bracket" else "系数表"
                    errors.append(f"{what}引用了不存在的{word} {table}")
            for segment in expr.zero_divisors:
                errors.append(f"{what}除以零：{segment}")
        if step.by:
            spec = plan.inputs.get(step.by)
            if spec is None or spec.type != "category":
                errors.append(f"{what}按 {step.by} 分情形，但它不是类别输入")
            else:
                items = plan.categories.get(spec.category, {}).get("items", {})
                for key in step.cases:
                    if key not in items:
                        errors.append(f"{what}的情形 {key} 不是类别取值")
                if step.default is None:
                    for key, key_label in items.items():
                        if key not in step.cases:
                            errors.append(f"{what}没有覆盖「{key_label}」（{key}），也没有默认公式")
        if (step.when is None) != (step.otherwise is None):
            errors.append(f"{what}的适用条件（when）与不适用取值（otherwise）必须同时给出")
        for limit in (step.floor, step.cap):
            if isinstance(limit, str) and limit not in plan.constants:
                errors.append(f"{what}的上下限引用了不存在的常量 {limit}")
        defined.add(step.name)
        step_names.add(step.name)
    if plan.formulas and plan.result not in step_names:
        errors.append(f"结果 {plan.result} 不是任何公式的名称")
    return errors
