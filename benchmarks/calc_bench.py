"""Benchmark finserv.core.calc against the same award computed in plain Python; prints markdown.

Run:  .venv/bin/python benchmarks/calc_bench.py [--applications 10000] [--repeat 3]

Recomputes N seeded applications of the example 上海金融人才奖 parameter set
(src/finserv/core/calc/examples/talent_award_2025_v1.json) three ways, single-threaded, best of
--repeat: the engine with the trace kept, the engine with the trace off, and a hand-written
Decimal function with the same brackets, factors, floor, cap and rounding (the baseline; also
used to check every engine result). Also renders explain() for every traced result.
"""

from __future__ import annotations

from decimal import Decimal
from decimal import ROUND_HALF_UP
from pathlib import Path

import argparse
import platform
import random
import sys
import time


sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from finserv.core import calc  # noqa: E402


BASE = [
    (Decimal(0), Decimal(300000), Decimal(0)),
    (Decimal(300000), Decimal(600000), Decimal(25000)),
    (Decimal(600000), Decimal(1000000), Decimal(50000)),
    (Decimal(1000000), Decimal(2000000), Decimal(100000)),
    (Decimal(2000000), None, Decimal(150000)),
]
TENURE = [(0, 3, Decimal("1.00")), (3, 5, Decimal("1.10")), (5, None, Decimal("1.20"))]
FACTORS = {k: Decimal(v) for k, v in
           dict(bank="1.00", securities="1.00", insurance="1.00", fund="1.10", fintech="1.20", other="0.70").items()}


def plain(app):
    income = Decimal(app["annual_income"])
    years = app["years_in_shanghai"]
    base = next(v for lo, hi, v in BASE if income >= lo and (hi is None or income < hi))
    tenure = next(v for lo, hi, v in TENURE if years >= lo and (hi is None or years < hi))
    if base <= 0:
        return Decimal(0)
    award = base * FACTORS[app["institution_type"]] * tenure
    award = min(max(award, Decimal(20000)), Decimal(200000))
    return award.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def applications(n):
    rnd = random.Random(20251125)
    kinds = list(FACTORS)
    return [
        {
            "annual_income": f"{rnd.randint(100000, 3000000)}.{rnd.randint(0, 99):02d}",
            "institution_type": rnd.choice(kinds),
            "years_in_shanghai": rnd.randint(0, 12),
        }
        for _ in range(n)
    ]


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    version = calc.PolicyVersion.from_json((calc.EXAMPLES / "talent_award_2025_v1.json").read_text("utf-8"))
    apps = applications(args.applications)
    n = len(apps)
    t_plain, expected = best(lambda: [plain(a) for a in apps], args.repeat)
    t_on, traced = best(lambda: [calc.calculate(version, a) for a in apps], args.repeat)
    t_off, untraced = best(lambda: [calc.calculate(version, a, trace=False) for a in apps], args.repeat)
    t_explain, _ = best(lambda: [r.explain() for r in traced], 1)
    assert [r.value for r in traced] == expected == [r.value for r in untraced], "engine differs from baseline"
    steps = sum(len(r.trace) for r in traced)
    print(f"## core/calc: {n:,} talent-award applications ({platform.python_version()}, best of {args.repeat})\n")
    print("| variant | total s | per calc µs | calcs/s | vs plain Python |")
    print("|---|---|---|---|---|")
    for label, t in (("plain Python (baseline)", t_plain), ("engine, trace on", t_on), ("engine, trace off", t_off)):
        print(f"| {label} | {t:.3f} | {t / n * 1e6:.1f} | {n / t:,.0f} | {t / t_plain:.1f}x |")
    print(f"\n- explain() for all {n:,} traced results: {t_explain:.3f} s; {steps / n:.1f} trace steps per calculation.")
    print(f"- Target: {n:,} recomputed with traces in < 10 s: {'PASS' if t_on < 10 else 'FAIL'} ({t_on:.2f} s).")
    print("- Every engine result equals the baseline's.")


if __name__ == "__main__":
    main()
