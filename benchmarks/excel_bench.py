"""Excel export and import: finserv.core.excel (streaming) beside naive openpyxl, same run.

    .venv/bin/python benchmarks/excel_bench.py [--rows 5000,100000]

For each size: time and peak memory of
* export: ``export_xlsx`` (write_only, formula neutralising, styles) vs a naive
  ``Workbook()`` + ``ws.append`` + ``save`` (the whole sheet in memory);
* import: ``import_xlsx`` (read_only streaming, every cell type-checked, a no-op handle_row)
  vs naive ``load_workbook()`` (not read_only) + iterating the rows (no checks at all).

Each step runs in a fresh subprocess, so one step's peak does not hide the next one's. Time is
wall-clock without any tracing; peak memory is the growth of the process's peak RSS
(ru_maxrss) during the step. ``--tracemalloc`` also reports tracemalloc's peak of Python
allocations (that slows every step several times, both sides alike). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import io
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))


def columns():
    from finserv.core.excel import Column

    return [
        Column("用户名", "username", required=True),
        Column("姓名", "fullname", required=True),
        Column("邮箱", "email", type="email"),
        Column("手机号码", "mobile", type="mobile"),
        Column("身份证号", "id_number", type="id_number"),
        Column("金额", "amount", type="decimal"),
        Column("日期", "day", type="date"),
        Column("类别", "kind", type="choice", choices={"bank": "银行", "insurer": "保险公司"}),
    ]


def rows(n):
    day = datetime.date(2024, 6, 18)
    for i in range(n):
        yield {
            "username": f"user{i:06d}",
            "fullname": f"测试用户{i}",
            "email": f"user{i}@example.cn",
            "mobile": f"138{i % 100000000:08d}",
            "id_number": "11010519491231002X",
            "amount": decimal.Decimal(i) / 100,
            "day": day,
            "kind": "bank" if i % 2 else "insurer",
        }


def data_file(n):
    path = f"/tmp/finserv-excel-bench-{n}.xlsx"
    if not os.path.exists(path):
        from finserv.core.excel import export_xlsx

        with open(path, "wb") as f:
            f.write(export_xlsx(rows(n), columns(), title="基准"))
    return path


TRACE = False


def step(name, n):
    """Run one step in this process; returns (seconds, tracemalloc peak MB, rss growth MB)."""
    from finserv.core.excel import export_xlsx
    from finserv.core.excel import import_xlsx

    cols = columns()
    data = open(data_file(n), "rb").read() if name.startswith("import") else None
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if TRACE:
        tracemalloc.start()
    started = time.perf_counter()
    if name == "export finserv":
        out = export_xlsx(rows(n), cols, title="基准")
    elif name == "export naive":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.append([c.header for c in cols])
        for row in rows(n):
            ws.append([row[c.field] for c in cols])
        buffer = io.BytesIO()
        wb.save(buffer)
        out = buffer.getvalue()
    elif name == "import finserv":
        count = [0]

        def handle(values):
            count[0] += 1

        report = import_xlsx(data, cols, handle, max_rows=max(n, 100_000))
        assert report.ok and count[0] == n, report.message()
        out = None
    elif name == "import naive":
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data))
        count = sum(1 for _row in wb.active.iter_rows(min_row=2, values_only=True))
        assert count == n
        out = None
    seconds = time.perf_counter() - started
    peak = 0
    if TRACE:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del out
    return seconds, peak / 1048576, (rss_after - rss_before) / 1024


STEPS = ["export finserv", "export naive", "import finserv", "import naive"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="5000,100000")
    parser.add_argument("--step")
    parser.add_argument("--n", type=int)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    global TRACE
    TRACE = args.tracemalloc
    if args.step:  # child process
        print(json.dumps(step(args.step, args.n)))
        return
    sizes = [int(s) for s in args.rows.split(",")]
    results = []
    for n in sizes:
        data_file(n)
        for name in STEPS:
            out = subprocess.run(
                [sys.executable, __file__, "--step", name, "--n", str(n)] + (["--tracemalloc"] if TRACE else []), capture_output=True, text=True, check=True
            )
            seconds, traced, rss = json.loads(out.stdout.strip().splitlines()[-1])
            results.append((n, name, seconds, traced, rss))
            print(f"  {n:>7} {name:<15} {seconds:7.2f} s  {traced:7.1f} MB traced  {rss:7.1f} MB RSS", file=sys.stderr)
    print(f"\nExcel benchmark, {datetime.date.today()}, Python {sys.version.split()[0]}, "
          f"openpyxl {__import__('openpyxl').__version__}, {os.cpu_count()} CPUs\n")
    traced_head = " peak Python allocations (MB, tracemalloc) |" if TRACE else ""
    print(f"| rows | step | time (s) | rows/s | peak RSS growth (MB) |{traced_head}")
    print("|---:|---|---:|---:|---:|" + ("---:|" if TRACE else ""))
    for n, name, seconds, traced, rss in results:
        extra = f" {traced:.1f} |" if TRACE else ""
        print(f"| {n:,} | {name} | {seconds:.2f} | {n / seconds:,.0f} | {rss:.1f} |{extra}")
    size = {n: os.path.getsize(data_file(n)) / 1048576 for n in sizes}
    print("\nFile sizes: " + ", ".join(f"{n:,} rows = {mb:.1f} MB" for n, mb in size.items()))


if __name__ == "__main__":
    main()
