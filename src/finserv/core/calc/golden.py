"""Golden cases: worked examples a policy officer can read, run against the versions."""

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from .engine import calculate
from .errors import CalcError
from .model import PolicyVersion
from .model import to_decimal
from .versions import select_version

import json


@dataclass(frozen=True)
class GoldenFailure:
    name: str
    message: str

    def __str__(self):
        return f"{self.name}：{self.message}"


def load_cases(path):
    """Read cases from a .yaml/.yml or .json file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    return data["cases"] if isinstance(data, dict) else data


def load_versions(paths):
    return [PolicyVersion.from_json(Path(p).read_text(encoding="utf-8")) for p in paths]


def run_golden(versions, cases):
    """Run each case {name, date, inputs, expected | expected_error, version?, adjustment?,
    expected_brackets?, explain_contains?}; return the failures (empty list = all pass)."""
    failures = []
    for case in cases:
        name = case.get("name", "?")
        try:
            if case.get("version"):
                matches = [v for v in versions if v.id == case["version"]]
                if not matches:
                    raise CalcError(f"没有参数版本 {case['version']}")
                version = matches[0]
            else:
                version = select_version(versions, str(case["date"]))
            result = calculate(version, case.get("inputs") or {})
            adj = case.get("adjustment")
            if adj:
                result = result.adjust(str(adj["amount"]), adj.get("reason"), adj.get("user"), adj.get("at"))
        except CalcError as exc:
            expected_error = case.get("expected_error")
            if expected_error and expected_error in str(exc):
                continue
            failures.append(GoldenFailure(name, f"计算出错：{exc}"))
            continue
        if case.get("expected_error"):
            failures.append(GoldenFailure(name, f"应报错「{case['expected_error']}」，却得到 {result.value}"))
            continue
        expected = to_decimal(case["expected"], "期望值")
        if result.value != expected:
            failures.append(GoldenFailure(name, f"期望 {expected}，得到 {result.value}"))
        if case.get("expected_version") and version.id != case["expected_version"]:
            failures.append(GoldenFailure(name, f"应使用版本 {case['expected_version']}，实际 {version.id}"))
        for table, number in (case.get("expected_brackets") or {}).items():
            hit = [s.data["number"] for s in result.steps("bracket") if s.name == table]
            if hit != [number]:
                failures.append(GoldenFailure(name, f"档位表 {table} 应命中第 {number} 档，实际 {hit}"))
        text = result.explain()
        for fragment in case.get("explain_contains") or ():
            if fragment not in text:
                failures.append(GoldenFailure(name, f"说明中缺少「{fragment}」"))
        if not isinstance(result.value, Decimal):  # pragma: no cover
            failures.append(GoldenFailure(name, "结果不是 Decimal"))
    return failures
