"""calculate(version, inputs) → Result(value, trace); the trace is written by the engine as it computes."""

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timezone
from decimal import Context
from decimal import Decimal
from decimal import DecimalException
from decimal import DivisionByZero
from decimal import InvalidOperation
from decimal import localcontext
from decimal import Overflow
from decimal import ROUND_HALF_UP

from .errors import CalcError
from .expr import round_to
from .format import interval
from .format import money
from .model import ROUNDING
from .model import ROUNDING_LABELS
from .model import to_decimal


DECIMAL_CONTEXT = Context(
    prec=34,
    rounding=ROUND_HALF_UP,
    Emax=99999,
    Emin=-99999,
    traps=[DivisionByZero, InvalidOperation, Overflow],
)
CURRENCY_UNIT = "元"


@dataclass(frozen=True)
class TraceStep:
    """One thing the engine did. ``kind`` is one of: version, input, bracket, factor, formula,
    condition, floor, cap, round, result, adjustment. ``data`` holds the values (Decimals exact)."""

    kind: str
    name: str
    label: str
    data: dict = field(default_factory=dict)

    def to_dict(self):
        return {"kind": self.kind, "name": self.name, "label": self.label, "data": _jsonable(self.data)}

    def text(self):
        return _RENDER[self.kind](self)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True)
class Result:
    value: Decimal
    trace: list
    version_id: str = ""
    version_digest: str = ""
    inputs: dict = field(default_factory=dict)

    def explain_lines(self):
        return [step.text() for step in self.trace]

    def explain(self):
        """The trace as readable Chinese lines, one per step."""
        return "\n".join(self.explain_lines())

    def steps(self, kind):
        return [s for s in self.trace if s.kind == kind]

    def to_dict(self):
        return {
            "value": str(self.value),
            "version_id": self.version_id,
            "version_digest": self.version_digest,
            "inputs": _jsonable(self.inputs),
            "trace": [s.to_dict() for s in self.trace],
        }

    def adjust(self, amount, reason, user, at=None):
        """A new Result with the amount set by a reviewer; the reason is mandatory and traced."""
        if not reason or not str(reason).strip():
            raise CalcError("人工调整必须填写理由")
        if not user:
            raise CalcError("人工调整必须记录调整人")
        if isinstance(amount, float):
            raise CalcError("调整金额请以文本或整数提供，不接受浮点数")
        after = to_decimal(amount, "调整金额")
        if after < 0:
            raise CalcError("调整金额不能为负数")
        at = at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        step = TraceStep(
            "adjustment",
            "adjustment",
            "人工调整",
            {"before": self.value, "after": after, "reason": str(reason).strip(), "user": user, "at": str(at)},
        )
        return Result(after, [*self.trace, step], self.version_id, self.version_digest, self.inputs)


class _Context:
    __slots__ = ("plan", "env", "trace")

    def __init__(self, plan, trace):
        self.plan = plan
        self.env = {}
        self.trace = trace

    def lookup(self, table_name, value, source, arg_name):
        table = self.plan.brackets[table_name]
        if not isinstance(value, Decimal):
            raise CalcError(f"档位表「{table.label}」需要数值，得到「{value}」")
        match = None
        for row in table.rows:
            if row.contains(value):
                if match is not None:  # only reachable for hit policy "unique"
                    raise CalcError(
                        f"{source} = {money(value)} 同时落在「{table.label}」第 {match.index + 1} 档和"
                        f"第 {row.index + 1} 档（命中策略 unique）"
                    )
                match = row
                if table.hit_policy == "first":
                    break
        if match is None:
            label = self.plan.label(arg_name) if arg_name else source
            raise CalcError(f"{label} {money(value)} 不在「{table.label}」的任何档位内")
        if self.trace is not None:
            label = self.plan.label(arg_name) if arg_name else source
            self.trace.append(
                TraceStep(
                    "bracket",
                    table_name,
                    table.label,
                    {
                        "input": source,
                        "input_label": label,
                        "input_unit": self.plan.unit(arg_name) if arg_name else "",
                        "input_value": value,
                        "index": match.index,
                        "number": match.index + 1,
                        "low": match.low,
                        "high": match.high,
                        "low_inclusive": match.low_inclusive,
                        "high_inclusive": match.high_inclusive,
                        "interval": interval(match),
                        "value": match.value,
                        "kind": table.kind,
                        "unit": table.unit,
                        "hit_policy": table.hit_policy,
                        "reference": match.reference,
                        "description": match.description,
                    },
                )
            )
        return match.value

    def factor(self, table_name, key, source, arg_name):
        table = self.plan.factors[table_name]
        category = self.plan.categories[table.category]
        entry = table.entries.get(key) if isinstance(key, str) else None
        if entry is None:
            raise CalcError(
                f"「{table.label}」没有「{key}」的系数（{category['label']}可选："
                f"{'、'.join(category['items'].values())}）"
            )
        if self.trace is not None:
            self.trace.append(
                TraceStep(
                    "factor",
                    table_name,
                    table.label,
                    {
                        "category": table.category,
                        "category_label": category["label"],
                        "key": key,
                        "key_label": category["items"].get(key, key),
                        "value": entry.value,
                        "reason": entry.reason,
                        "reference": entry.reference,
                    },
                )
            )
        return entry.value


def _coerce(spec, raw, plan):
    what = f"「{spec.label}」（{spec.name}）"
    if spec.type == "category":
        items = plan.categories[spec.category]["items"]
        if not isinstance(raw, str):
            raise CalcError(f"输入{what}应为类别取值，得到「{raw}」")
        if raw not in items:
            raise CalcError(f"输入{what}的取值「{raw}」不在类别中（可选：{'、'.join(items.values())}）")
        return raw
    if spec.type == "boolean":
        if not isinstance(raw, bool):
            raise CalcError(f"输入{what}应为是/否（true/false），得到「{raw}」")
        return raw
    if isinstance(raw, bool) or not isinstance(raw, (int, str, Decimal)):
        if isinstance(raw, float):
            raise CalcError(f"输入{what}请以文本或整数提供，不接受浮点数（避免精度误差）：{raw}")
        raise CalcError(f"输入{what}应为数值，得到「{raw}」")
    try:
        value = to_decimal(raw, f"输入{what}")
    except CalcError:
        raise CalcError(f"输入{what}不是有效数值：「{raw}」") from None
    if spec.type == "integer" and value != value.to_integral_value():
        raise CalcError(f"输入{what}应为整数，得到 {raw}")
    if spec.type == "money" and value.as_tuple().exponent < -2:
        raise CalcError(f"输入{what}最多两位小数（精确到分），得到 {raw}")
    low = spec.min if spec.min is not None else (Decimal(0) if spec.type == "money" else None)
    if low is not None and value < low:
        if low == 0:
            raise CalcError(f"输入{what}不能为负数：{raw}")
        raise CalcError(f"输入{what}不能小于 {money(low)}：{raw}")
    if spec.max is not None and value > spec.max:
        raise CalcError(f"输入{what}不能大于 {money(spec.max)}：{raw}")
    return value


def _limit_value(plan, limit):
    if isinstance(limit, str):
        const = plan.constants[limit]
        return const.value, const.label, const.reference
    return limit, "", ""


def calculate(version, inputs, *, trace=True):
    """Compute *version* for *inputs*. Raises CalcError (Chinese message) on any bad input."""
    plan = version.plan
    if not isinstance(inputs, dict):
        raise CalcError("输入必须是名称到取值的映射")
    steps = [] if trace else None
    ctx = _Context(plan, steps)
    env = ctx.env
    if steps is not None:
        steps.append(
            TraceStep(
                "version",
                version.id,
                version.title,
                {
                    "id": version.id,
                    "version": version.version,
                    "effective_from": version.effective_from.isoformat(),
                    "effective_to": version.effective_to.isoformat() if version.effective_to else None,
                    "status": version.status,
                    "reference": version.reference,
                    "digest": version.digest,
                },
            )
        )
    for name, const in plan.constants.items():
        env[name] = const.value
    used = {}
    for name, spec in plan.inputs.items():
        if name in inputs and inputs[name] is not None and inputs[name] != "":
            raw, source = inputs[name], "given"
        elif spec.default is not None:
            raw, source = spec.default, "default"
        else:
            raise CalcError(f"缺少输入「{spec.label}」（{name}）")
        env[name] = value = _coerce(spec, raw, plan)
        used[name] = value
        if steps is not None:
            data = {"value": value, "unit": spec.unit, "source": source}
            if spec.type == "category":
                data["value_label"] = plan.categories[spec.category]["items"][value]
            steps.append(TraceStep("input", name, spec.label, data))
    try:
        with localcontext(DECIMAL_CONTEXT):
            for step in plan.formulas:
                env[step.name] = _run_step(ctx, step)
            value = env[plan.result]
            if not isinstance(value, Decimal):
                raise CalcError(f"结果「{plan.label(plan.result)}」不是数值")
            if plan.rounding:
                before, value = value, round_to(value, ROUNDING[plan.rounding])
                if steps is not None:
                    steps.append(_round_step(plan.result, "最终金额", plan.rounding, before, value))
    except DecimalException as exc:
        raise CalcError(f"计算溢出或无效运算：{type(exc).__name__}") from None
    if steps is not None:
        steps.append(
            TraceStep("result", plan.result, plan.label(plan.result), {"value": value, "unit": plan.unit(plan.result)})
        )
    return Result(value, steps if steps is not None else [], version.id, version.digest, used)


def _round_step(name, label, unit, before, after):
    return TraceStep(
        "round", name, label, {"unit": unit, "mode": "ROUND_HALF_UP", "before": before, "after": after}
    )


def _run_step(ctx, step):
    plan, env, steps = ctx.plan, ctx.env, ctx.trace
    try:
        if step.when is not None:
            ok = step.when.evaluate(ctx)
            if not isinstance(ok, bool):
                raise CalcError("适用条件（when）必须是比较")
            if not ok:
                value = step.otherwise.evaluate(ctx)
                if steps is not None:
                    steps.append(
                        TraceStep(
                            "condition",
                            step.name,
                            step.label,
                            {
                                "condition": step.when.source,
                                "readable": step.when.readable(plan.label),
                                "substituted": step.when.render(lambda n: _show(plan, n, env[n])),
                                "value": value,
                                "unit": step.unit,
                                "reference": step.reference,
                            },
                        )
                    )
                return _number_result(step, value)
        variant = None
        expr = step.expression
        if step.by:
            variant = env[step.by]
            expr = step.cases.get(variant, step.default)
            if expr is None:
                raise CalcError(f"没有适用于「{variant}」的公式")
        value = _number_result(step, expr.evaluate(ctx))
    except CalcError as exc:
        raise CalcError(f"公式「{step.label}」：{exc}") from None
    except DecimalException as exc:
        raise CalcError(f"公式「{step.label}」计算出错：{type(exc).__name__}") from None
    if steps is not None:
        data = {
            "expression": expr.source,
            "readable": expr.readable(plan.label),
            "substituted": expr.render(lambda n: _show(plan, n, env[n])),
            "table_call": expr.table_call,
            "value": value,
            "unit": step.unit,
            "reference": step.reference,
        }
        if step.by:
            spec = plan.inputs[step.by]
            data["variant"] = {
                "by": step.by,
                "by_label": spec.label,
                "key": variant,
                "key_label": plan.categories[spec.category]["items"].get(variant, variant),
                "default": variant not in step.cases,
            }
        steps.append(TraceStep("formula", step.name, step.label, data))
    for kind, limit in (("floor", step.floor), ("cap", step.cap)):
        if limit is None:
            continue
        bound, bound_label, reference = _limit_value(plan, limit)
        applied = value < bound if kind == "floor" else value > bound
        before = value
        if applied:
            value = bound
        if steps is not None:
            steps.append(
                TraceStep(
                    kind,
                    step.name,
                    step.label,
                    {
                        "limit": bound,
                        "limit_name": limit if isinstance(limit, str) else None,
                        "limit_label": bound_label,
                        "reference": reference,
                        "applied": applied,
                        "before": before,
                        "after": value,
                        "unit": step.unit,
                    },
                )
            )
    if step.round:
        before, value = value, round_to(value, ROUNDING[step.round])
        if steps is not None:
            steps.append(_round_step(step.name, step.label, step.round, before, value))
    return value


def _show(plan, name, value):
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    spec = plan.inputs.get(name)
    if spec is not None and spec.type == "category":
        return f"「{plan.categories[spec.category]['items'].get(value, value)}」"
    return f"「{value}」"


def _number_result(step, value):
    if not isinstance(value, Decimal):
        raise CalcError(f"公式「{step.label}」的结果不是数值：{value}")
    return value


# --- explanation ------------------------------------------------------------------------------


def _q(value, unit=""):
    text = money(value)
    return f"{text} {unit}" if unit else text


def _ref(*parts):
    parts = [p for p in parts if p]
    return f"（{'；'.join(parts)}）" if parts else ""


def _r_version(s):
    d = s.data
    until = f"至 {d['effective_to']} " if d["effective_to"] else "起"
    return (
        f"参数版本：{s.label}（{d['id']} 第 {d['version']} 版，{d['effective_from']} {until}生效）"
        f"{_ref(d['reference'])}"
    )


def _r_input(s):
    d = s.data
    shown = d.get("value_label") or (_q(d["value"], d["unit"]) if isinstance(d["value"], Decimal) else d["value"])
    if isinstance(shown, bool):
        shown = "是" if shown else "否"
    src = "（未填写，取默认值）" if d["source"] == "default" else ""
    return f"输入 {s.label}：{shown}{src}"


def _r_bracket(s):
    d = s.data
    desc = f"，{d['description']}" if d["description"] else ""
    return (
        f"{d['input_label']} {_q(d['input_value'], d['input_unit'])}落在第 {d['number']} 档 {d['interval']}，"
        f"{s.label} {_q(d['value'], d['unit'])}{desc}{_ref(d['reference'])}"
    )


def _r_factor(s):
    d = s.data
    return f"{d['category_label']}为「{d['key_label']}」，{s.label} {money(d['value'])}{_ref(d['reason'], d['reference'])}"


def _r_formula(s):
    d = s.data
    variant = ""
    if "variant" in d:
        v = d["variant"]
        which = "默认公式" if v["default"] else "该类型的公式"
        variant = f"{v['by_label']}为「{v['key_label']}」，适用{which}："
    if d.get("table_call") and not variant:
        return f"{s.label} = {_q(d['value'], d['unit'])}"
    middle = f" = {d['substituted']}" if d["substituted"] != d["readable"] else ""
    return f"{variant}{s.label} = {d['readable']}{middle} = {_q(d['value'], d['unit'])}{_ref(d['reference'])}"


def _r_condition(s):
    d = s.data
    return (
        f"{s.label}：条件 {d['readable']}（{d['substituted']}）不成立，取 {_q(d['value'], d['unit'])}"
        f"{_ref(d['reference'])}"
    )


def _r_limit(s):
    d = s.data
    word = "下限" if s.kind == "floor" else "上限"
    name = f"{d['limit_label']} " if d["limit_label"] else ""
    limit = f"{word}（{name}{_q(d['limit'], d['unit'])}）"
    if d["applied"]:
        verb = "低于" if s.kind == "floor" else "超过"
        return f"{s.label} {_q(d['before'], d['unit'])}{verb}{limit}，按{word}计 {_q(d['after'], d['unit'])}{_ref(d['reference'])}"
    verb = "不低于" if s.kind == "floor" else "未超过"
    return f"{s.label} {_q(d['before'], d['unit'])}{verb}{limit}，不调整{_ref(d['reference'])}"


def _r_round(s):
    d = s.data
    how = f"{s.label}按{ROUNDING_LABELS[d['unit']]}四舍五入（ROUND_HALF_UP）"
    if d["before"] == d["after"]:
        return f"{how}：{money(d['after'])}，无需进舍"
    return f"{how}：{money(d['before'])} → {money(d['after'])}"


def _r_result(s):
    return f"最终金额：{_q(s.data['value'], s.data['unit'] or CURRENCY_UNIT)}"


def _r_adjustment(s):
    d = s.data
    return (
        f"人工调整：{_q(d['before'], CURRENCY_UNIT)} → {_q(d['after'], CURRENCY_UNIT)}，"
        f"理由：{d['reason']}（{d['user']}，{d['at']}）"
    )


_RENDER = {
    "version": _r_version,
    "input": _r_input,
    "bracket": _r_bracket,
    "factor": _r_factor,
    "formula": _r_formula,
    "condition": _r_condition,
    "floor": _r_limit,
    "cap": _r_limit,
    "round": _r_round,
    "result": _r_result,
    "adjustment": _r_adjustment,
}
