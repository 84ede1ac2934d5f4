"""Bulk import of talent records: SM4-GCM encrypted personal fields vs plaintext, same run.

Each record carries three personal fields (身份证号, mobile, bank account) plus name and
employer, stored as persistent records in an OOBTree (the way bulk records are kept, see
DESIGN.md) in a real FileStorage, with an exact-match index (plaintext value → key for the
plaintext run, HMAC-SM3 blind index → key for the encrypted run). Commits every 5,000 records.
Afterwards Data.fs is grepped for a known ID number: it must be absent from the encrypted run.

    .venv/bin/python benchmarks/encrypted_import.py [--records 100000]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import transaction  # noqa: E402
from BTrees.OOBTree import OOBTree  # noqa: E402
from persistent import Persistent  # noqa: E402
from ZODB import DB  # noqa: E402
from ZODB.FileStorage import FileStorage  # noqa: E402

from finserv.core import crypto  # noqa: E402
from finserv.core import sensitive  # noqa: E402
from finserv.core.codes import id_check_char  # noqa: E402


class Talent(Persistent):
    def __init__(self, key, name, employer, id_number, mobile, bank_account):
        self.key = key
        self.name = name
        self.employer = employer
        self.id_number = id_number
        self.mobile = mobile
        self.bank_account = bank_account


def people(count, seed=20261125):
    rng = random.Random(seed)
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
    for i in range(count):
        first17 = f"310115{rng.randint(1960, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        yield (
            f"T{i:07d}",
            rng.choice(surnames) + rng.choice(given) + rng.choice(given),
            f"上海某某金融机构{rng.randint(1, 500)}号",
            first17 + id_check_char(first17),
            f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
            f"6222{rng.randint(0, 10**15 - 1):015d}",
        )


def write_workbook(path: Path, records: list) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("人才")
    ws.append(["编号", "姓名", "工作单位", "身份证号", "手机号码", "银行账号"])
    for row in records:
        ws.append(list(row))
    target = path / "talents.xlsx"
    wb.save(target)
    return target


def read_and_validate(workbook: Path):
    """What an import does before storing: stream the rows and check every code."""
    from openpyxl import load_workbook

    field = sensitive.EncryptedTextLine
    checks = (field(kind="id_number"), field(kind="mobile"), field(kind="bank_account"))
    wb = load_workbook(workbook, read_only=True)
    for row in wb["人才"].iter_rows(min_row=2, values_only=True):
        for check, value in zip(checks, row[3:6]):
            check.validate(value)
        yield row
    wb.close()


def run(path: Path, records, encrypted: bool) -> dict:
    storage = FileStorage(str(path / "Data.fs"))
    db = DB(storage, cache_size=10000)
    conn = db.open()
    root = conn.root()
    root["talents"] = talents = OOBTree()
    root["index"] = index = OOBTree()
    transaction.commit()
    count = 0
    for n, (key, name, employer, id_number, mobile, bank) in enumerate(records, 1):
        count = n
        if encrypted:
            sealed = [
                sensitive.seal(None, field, kind, value, uid=key)
                for field, kind, value in (("id_number", "id_number", id_number), ("mobile", "mobile", mobile), ("bank_account", "bank_account", bank))
            ]
            talents[key] = Talent(key, name, employer, *sealed)
            index[sealed[0].blind] = key
        else:
            talents[key] = Talent(key, name, employer, id_number, mobile, bank)
            index["id_number:" + id_number] = key
        if n % 5000 == 0:
            transaction.commit()
    transaction.commit()
    conn.close()
    db.close()
    size = (path / "Data.fs").stat().st_size
    return {"records": count, "data_fs_mb": size / 1e6}


def grep(path: Path, needle: str) -> bool:
    return subprocess.run(["grep", "-c", "-a", needle, str(path / "Data.fs")], capture_output=True).returncode == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="finserv-enc-bench-"))
    os.environ["FINSERV_KEY_DIR"] = str(work / "keys")
    crypto.reset_keyring()
    records = list(people(args.records))
    workbook = write_workbook(work, records)
    known_id = records[12345 % len(records)][3]
    results = {}
    for scenario in ("storage only", "Excel import"):
        for label, encrypted in (("plaintext", False), ("encrypted", True)):
            target = work / f"{scenario[:5]}-{label}"
            target.mkdir()
            rows = records if scenario == "storage only" else read_and_validate(workbook)
            start = time.perf_counter()
            result = run(target, rows, encrypted)
            result["seconds"] = time.perf_counter() - start
            result["per_record_us"] = result["seconds"] / len(records) * 1e6
            result["id_in_data_fs"] = grep(target, known_id)
            results[(scenario, label)] = result
            shutil.rmtree(target)
    print(f"\n{args.records:,} talent records, 3 personal fields each, FileStorage, commit every 5,000\n")
    print("| scenario | run | seconds | µs per record | Data.fs MB | a known 身份证号 found by grep in Data.fs |")
    print("|---|---|---:|---:|---:|---|")
    for (scenario, label), r in results.items():
        print(f"| {scenario} | {label} | {r['seconds']:.1f} | {r['per_record_us']:.0f} | {r['data_fs_mb']:.1f} | {'yes' if r['id_in_data_fs'] else 'no'} |")
    print()
    for scenario in ("storage only", "Excel import"):
        ratio = results[(scenario, "encrypted")]["seconds"] / results[(scenario, "plaintext")]["seconds"]
        print(f"{scenario}: encrypted / plaintext = {ratio:.2f}x")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
