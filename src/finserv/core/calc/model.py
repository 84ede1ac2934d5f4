"""Policy versions (parameter sets): immutable, JSON-serialisable, validated before use.

A version's ``content`` (see ``examples/talent_award_2025_v1.json``)::

    inputs:     {name: {label, type: money|number|integer|category|boolean, unit?, min?, max?,
                        category?, default?}}
    categories: {name: {label, items: {key: label}}}
    brackets:   {name: {label, hit_policy: first|unique, kind: amount|rate|score, unit?,
                        domain: {low, high, low_inclusive?, high_inclusive?}?,
                        rows: [{low, high, low_inclusive, high_inclusive, value, reference,
                                description?}]}}            (low/high null = unbounded)
    factors:    {name: {label, category, sum_to?, entries: {key: {value, reason, reference}}}}
    constants:  {name: {label, value, unit?, reference}}
    formulas:   [{name, label, unit?, reference?, expression | (by, cases: {key: expr}, default?),
                  when?, otherwise?, floor?, cap?, round?: yuan|fen}]
    result:     name of the formula giving the amount (default: the last)
    rounding:   yuan|fen|null   (final rounding, ROUND_HALF_UP)
"""

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from decimal import Decimal
from decimal import InvalidOperation
from functools import cached_property
from types import MappingProxyType

from .errors import CalcError
from .errors import ExpressionError
from .expr import FEN
from .expr import parse
from .expr import YUAN

import hashlib
import json


STATUSES = ("draft", "approved", "published", "retired")
TRANSITIONS = {
    "draft": ("approved",),
    "approved": ("published", "draft"),
    "published": ("retired",),
    "retired": (),
}
STATUS_LABELS = {"draft": "草稿", "approved": "已审核", "published": "已发布", "retired": "已停用"}
INPUT_TYPES = ("money", "number", "integer", "category", "boolean")
ROUNDING = {"yuan": YUAN, "fen": FEN}
ROUNDING_LABELS = {"yuan": "元", "fen": "分"}


def _freeze(obj):
    if isinstance(obj, dict):
        return MappingProxyType({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return tuple(_freeze(v) for v in obj)
    return obj


def _thaw(obj):
    if isinstance(obj, MappingProxyType | dict):
        return {k: _thaw(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_thaw(v) for v in obj]
    if isinstance(obj, Decimal):
        return str(obj)
    return obj


def to_decimal(value, what):
    """Parse a parameter value (str, int or JSON float) into Decimal; CalcError naming *what*."""
    if isinstance(value, bool) or value is None:
        raise CalcError(f"{what}不是数值：{value}")
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise CalcError(f"{what}不是数值：{value}") from None
    if not result.is_finite():
        raise CalcError(f"{what}不是有限数值：{value}")
    return result


def _to_date(value, what):
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CalcError(f"{what}不是有效日期（YYYY-MM-DD）：{value}") from None


# --- compiled plan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InputSpec:
    name: str
    label: str
    type: str
    unit: str = ""
    min: Decimal | None = None
    max: Decimal | None = None
    category: str | None = None
    default: object = None


@dataclass(frozen=True)
class BracketRow:
    index: int
    low: Decimal | None
    high: Decimal | None
    low_inclusive: bool
    high_inclusive: bool
    value: Decimal
    reference: str
    description: str = ""

    def contains(self, x):
        if self.low is not None and (x < self.low or (x == self.low and not self.low_inclusive)):
            return False
        if self.high is not None and (
            x > self.high or (x == self.high and not self.high_inclusive)
        ):
            return False
        return True


@dataclass(frozen=True)
class BracketTable:
    name: str
    label: str
    hit_policy: str
    kind: str
    unit: str
    rows: tuple
    domain_low: Decimal | None
    domain_high: Decimal | None
    domain_low_inclusive: bool
    domain_high_inclusive: bool


@dataclass(frozen=True)
class FactorEntry:
    key: str
    value: Decimal
    reason: str
    reference: str


@dataclass(frozen=True)
class FactorTable:
    name: str
    label: str
    category: str
    entries: MappingProxyType
    sum_to: Decimal | None = None


@dataclass(frozen=True)
class Constant:
    name: str
    label: str
    value: Decimal
    unit: str
    reference: str


@dataclass(frozen=True)
class FormulaStep:
    name: str
    label: str
    unit: str
    reference: str
    expression: object = None
    by: str | None = None
    cases: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    default: object = None
    when: object = None
    otherwise: object = None
    floor: object = None  # Decimal or constant name
    cap: object = None
    round: str | None = None

    def expressions(self):
        for expr in (self.expression, self.default, self.when, self.otherwise):
            if expr is not None:
                yield expr
        yield from self.cases.values()


@dataclass(frozen=True)
class Plan:
    inputs: MappingProxyType
    categories: MappingProxyType  # name -> {"label", "items": {key: label}}
    brackets: MappingProxyType
    factors: MappingProxyType
    constants: MappingProxyType
    formulas: tuple
    result: str
    rounding: str | None

    def label(self, name):
        for group in (self.inputs, self.constants, self.brackets, self.factors):
            if name in group:
                return group[name].label
        for step in self.formulas:
            if step.name == name:
                return step.label
        return name

    def unit(self, name):
        for group in (self.inputs, self.constants):
            if name in group:
                return group[name].unit
        for step in self.formulas:
            if step.name == name:
                return step.unit
        return ""


def _build_plan(content, errors):
    """Compile *content*; append a Chinese message to *errors* for each problem found."""

    def dec(value, what, optional=False):
        if value is None and optional:
            return None
        try:
            return to_decimal(value, what)
        except CalcError as exc:
            errors.append(str(exc))
            return Decimal(0)

    def expr(source, what):
        if source is None:
            return None
        try:
            return parse(str(source))
        except ExpressionError as exc:
            errors.append(f"{what}：{exc}")
            return None

    inputs = {}
    for name, spec in (content.get("inputs") or {}).items():
        kind = spec.get("type", "number")
        if kind not in INPUT_TYPES:
            errors.append(f"输入 {name} 的类型 {kind} 无效（可用：{'、'.join(INPUT_TYPES)}）")
        inputs[name] = InputSpec(
            name=name,
            label=spec.get("label") or name,
            type=kind,
            unit=spec.get("unit", ""),
            min=dec(spec.get("min"), f"输入 {name} 的最小值", optional=True),
            max=dec(spec.get("max"), f"输入 {name} 的最大值", optional=True),
            category=spec.get("category"),
            default=spec.get("default"),
        )
    categories = {}
    for name, cat in (content.get("categories") or {}).items():
        items = cat.get("items") or {}
        if not items:
            errors.append(f"类别 {name} 没有任何取值")
        categories[name] = {"label": cat.get("label") or name, "items": dict(items)}

    brackets = {}
    for name, table in (content.get("brackets") or {}).items():
        label = table.get("label") or name
        hit = table.get("hit_policy", "unique")
        if hit not in ("first", "unique"):
            errors.append(f"档位表「{label}」的命中策略 {hit} 无效（可用：first、unique）")
        rows = []
        for i, row in enumerate(table.get("rows") or ()):
            what = f"档位表「{label}」第 {i + 1} 档"
            rows.append(
                BracketRow(
                    index=i,
                    low=dec(row.get("low"), f"{what}下限", optional=True),
                    high=dec(row.get("high"), f"{what}上限", optional=True),
                    low_inclusive=bool(row.get("low_inclusive", True)),
                    high_inclusive=bool(row.get("high_inclusive", False)),
                    value=dec(row.get("value"), f"{what}的值"),
                    reference=row.get("reference", ""),
                    description=row.get("description", ""),
                )
            )
        if not rows:
            errors.append(f"档位表「{label}」没有任何档位")
        domain = table.get("domain") or {}
        brackets[name] = BracketTable(
            name=name,
            label=label,
            hit_policy=hit,
            kind=table.get("kind", "amount"),
            unit=table.get("unit", ""),
            rows=tuple(rows),
            domain_low=dec(domain["low"], f"档位表「{label}」值域下限", optional=True)
            if "low" in domain
            else (rows[0].low if rows else None),
            domain_high=dec(domain["high"], f"档位表「{label}」值域上限", optional=True)
            if "high" in domain
            else (rows[-1].high if rows else None),
            domain_low_inclusive=bool(
                domain.get("low_inclusive", rows[0].low_inclusive if rows else True)
            ),
            domain_high_inclusive=bool(
                domain.get("high_inclusive", rows[-1].high_inclusive if rows else False)
            ),
        )

    factors = {}
    for name, table in (content.get("factors") or {}).items():
        label = table.get("label") or name
        entries = {}
        for key, entry in (table.get("entries") or {}).items():
            if not isinstance(entry, Mapping):
                entry = {"value": entry}
            entries[key] = FactorEntry(
                key=key,
                value=dec(entry.get("value"), f"系数表「{label}」中 {key} 的值"),
                reason=entry.get("reason", ""),
                reference=entry.get("reference", ""),
            )
        factors[name] = FactorTable(
            name=name,
            label=label,
            category=table.get("category", ""),
            entries=MappingProxyType(entries),
            sum_to=dec(table.get("sum_to"), f"系数表「{label}」的合计要求", optional=True),
        )

    constants = {}
    for name, const in (content.get("constants") or {}).items():
        if not isinstance(const, Mapping):
            const = {"value": const}
        constants[name] = Constant(
            name=name,
            label=const.get("label") or name,
            value=dec(const.get("value"), f"常量 {name}"),
            unit=const.get("unit", ""),
            reference=const.get("reference", ""),
        )

    formulas = []
    for i, step in enumerate(content.get("formulas") or ()):
        name = step.get("name") or f"step{i + 1}"
        label = step.get("label") or name
        what = f"公式「{label}」"

        def limit(value, kind):
            if value is None:
                return None
            if isinstance(value, str) and value.isidentifier():
                return value
            return dec(value, f"{what}的{kind}")

        cases = {k: expr(v, f"{what}（{k}）") for k, v in (step.get("cases") or {}).items()}
        formulas.append(
            FormulaStep(
                name=name,
                label=label,
                unit=step.get("unit", ""),
                reference=step.get("reference", ""),
                expression=expr(step.get("expression"), what),
                by=step.get("by"),
                cases=MappingProxyType({k: v for k, v in cases.items() if v is not None}),
                default=expr(step.get("default"), f"{what}（默认）"),
                when=expr(step.get("when"), f"{what}的适用条件"),
                otherwise=expr(step.get("otherwise"), f"{what}的不适用取值"),
                floor=limit(step.get("floor"), "下限"),
                cap=limit(step.get("cap"), "上限"),
                round=step.get("round"),
            )
        )
        if step.get("expression") is None and not step.get("by"):
            errors.append(f"{what}缺少表达式")
        if step.get("by") and not step.get("cases"):
            errors.append(f"{what}按 {step.get('by')} 分情形，但没有任何情形")
        if step.get("round") not in (None, "yuan", "fen"):
            errors.append(f"{what}的取整方式 {step.get('round')} 无效（可用：yuan、fen）")
    if not formulas:
        errors.append("没有任何公式")
    result = content.get("result") or (formulas[-1].name if formulas else "")
    rounding = content.get("rounding")
    if rounding not in (None, "yuan", "fen"):
        errors.append(f"最终取整方式 {rounding} 无效（可用：yuan、fen）")
    return Plan(
        inputs=MappingProxyType(inputs),
        categories=MappingProxyType(categories),
        brackets=MappingProxyType(brackets),
        factors=MappingProxyType(factors),
        constants=MappingProxyType(constants),
        formulas=tuple(formulas),
        result=result,
        rounding=rounding,
    )


# --- the version ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyVersion:
    """One immutable parameter set. Change it by making a new version (:func:`derive`)."""

    id: str
    title: str
    version: int
    effective_from: date
    effective_to: date | None
    status: str
    reference: str
    content: MappingProxyType = field(repr=False)
    author: str = ""
    note: str = ""
    approved_by: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise CalcError(f"版本状态 {self.status} 无效（可用：{'、'.join(STATUSES)}）")
        if not isinstance(self.content, MappingProxyType):
            object.__setattr__(self, "content", _freeze(dict(self.content)))

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict):
            raise CalcError("参数版本必须是一个对象（JSON object）")
        for key in ("id", "effective_from", "content"):
            if not data.get(key):
                raise CalcError(f"参数版本缺少 {key}")
        try:
            number = int(data.get("version", 1))
        except (TypeError, ValueError):
            raise CalcError(f"版本号不是整数：{data.get('version')}") from None
        return cls(
            id=str(data["id"]),
            title=data.get("title", ""),
            version=number,
            effective_from=_to_date(data["effective_from"], "生效日期"),
            effective_to=_to_date(data.get("effective_to"), "失效日期"),
            status=data.get("status", "draft"),
            reference=data.get("reference", ""),
            content=_freeze(json.loads(json.dumps(data["content"]))),
            author=data.get("author", ""),
            note=data.get("note", ""),
            approved_by=data.get("approved_by", ""),
        )

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))

    def to_dict(self):
        return {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "status": self.status,
            "reference": self.reference,
            "author": self.author,
            "note": self.note,
            "approved_by": self.approved_by,
            "content": _thaw(self.content),
        }

    def to_json(self, indent=None):
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, indent=indent)

    @cached_property
    def digest(self):
        """SM3 (or SHA-256 where OpenSSL lacks SM3) of the canonical JSON of the content."""
        data = json.dumps(
            _thaw(self.content), ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ).encode("utf-8")
        try:
            return "sm3:" + hashlib.new("sm3", data).hexdigest()
        except ValueError:  # pragma: no cover - OpenSSL without SM3
            return "sha256:" + hashlib.sha256(data).hexdigest()

    @cached_property
    def plan(self):
        """The compiled content; raises CalcError if the version does not validate."""
        from .validation import check

        errors = []
        plan = _build_plan(self.content, errors)
        if not errors:
            check(plan, errors)
        if errors:
            raise CalcError(f"参数版本 {self.id} 未通过校验：" + "；".join(errors))
        return plan

    def in_force(self, on_date):
        return self.effective_from <= on_date and (
            self.effective_to is None or on_date <= self.effective_to
        )


def derive(base, *, id, version, effective_from, effective_to=None, content=None, author="",
           note="", title=None, reference=None):
    """A new draft version based on *base* (never modifies *base*)."""
    return PolicyVersion(
        id=id,
        title=base.title if title is None else title,
        version=version,
        effective_from=_to_date(effective_from, "生效日期"),
        effective_to=_to_date(effective_to, "失效日期"),
        status="draft",
        reference=base.reference if reference is None else reference,
        content=_freeze(json.loads(json.dumps(_thaw(base.content if content is None else content)))),
        author=author,
        note=note,
    )


def transition(version, new_status, *, by=""):
    """A copy of *version* in *new_status*; publishing requires a version that validates."""
    from .validation import validate

    if new_status not in TRANSITIONS.get(version.status, ()):
        raise CalcError(
            f"版本 {version.id} 不能从「{STATUS_LABELS.get(version.status, version.status)}」"
            f"变为「{STATUS_LABELS.get(new_status, new_status)}」"
        )
    if new_status in ("approved", "published"):
        errors = validate(version)
        if errors:
            raise CalcError(f"版本 {version.id} 未通过校验，不能{STATUS_LABELS[new_status]}：" + "；".join(errors))
    changes = {"status": new_status}
    if new_status == "approved":
        changes["approved_by"] = by
    return replace(version, **changes)
