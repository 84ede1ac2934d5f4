"""Benchmark finserv.core.documents: PDF rendering, SM2 signing and verification; prints markdown.

Run:  .venv/bin/python benchmarks/documents_bench.py [--seconds 1.0]

Side by side in the same run:

* rendering a certificate / a result letter with the embedded Chinese font, against the same
  page drawn by plain reportlab with its built-in Helvetica and no Chinese (the baseline: what
  the font subsetting and our line breaking add);
* signing (SM3 of the file + one SM2 signature) and verifying a signed PDF, against SM3 alone;
* verifying the largest upload the public page accepts (20 MB), which an anonymous visitor
  can make us do — the cost of one such request.

Single-threaded; each metric loops for ``--seconds`` after one warm-up call. Keys go to a
temporary directory, never to var/keys. No register is consulted (offline verification).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

try:
    from finserv.core import crypto
except ImportError:  # package not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from finserv.core import crypto

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

CERTIFICATE = {
    "title": "结业证书",
    "holder": "张三丰",
    "body": "经考核合格，准予结业。该同志于2025年3月至2025年9月在上海金融人才实践基地参加为期六个月的实践锻炼，"
    "完成全部实践任务，表现优秀，特发此证。",
    "number": "沪金人才〔2025〕第0001号",
    "authority": "上海市地方金融管理局",
    "date": "2025年9月30日",
    "doc_id": "ABCD-EFGH-JKLM-NPQR",
    "verify_url": "https://finserv.example.gov.cn/@@verify-document?id=ABCD-EFGH-JKLM-NPQR",
}
LETTER = {
    "authority": "上海市地方金融管理局",
    "doc_number": "沪金管函〔2025〕12号",
    "heading": "关于2025年度金融发展资金扶持项目评审结果的通知",
    "addressee": "上海某某金融科技有限公司",
    "paragraphs": ["你单位报送的申请已收悉。经形式审查、专家评审和局长办公会议审议，现将评审结果通知如下：" * 3] * 6,
    "date": "2025年10月8日",
    "doc_id": "WXYZ-2345-6789-ABCD",
    "verify_url": "https://finserv.example.gov.cn/@@verify-document?id=WXYZ-2345-6789-ABCD",
}


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def baseline_page() -> bytes:
    """One A4 page of Latin text in Helvetica (not embedded): plain reportlab, nothing of ours."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    for line in range(30):
        page.drawString(72, 780 - line * 24, f"Line {line}: the quick brown fox jumps over the lazy dog 0123456789")
    page.showPage()
    page.save()
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as keys:
        os.environ["FINSERV_KEY_DIR"] = keys
        crypto.reset_keyring()
        from finserv.core.documents import render_pdf, sign_document, verify_document

        certificate = render_pdf("certificate", CERTIFICATE)
        letter = render_pdf("letter", LETTER)
        signed = sign_document(certificate, "ABCD-EFGH-JKLM-NPQR", "certificate", "上海市地方金融管理局")
        huge = b"%PDF-1.4\n" + os.urandom(20 * 1024 * 1024 - 200) + b"\n%%EOF\n"
        huge_signed = sign_document(huge, "HUGE-0000-0000-0000", "report")
        assert verify_document(signed, registry=None).valid and verify_document(huge_signed, registry=None).valid

        s = args.seconds
        rows = [
            ("render: plain reportlab page, Helvetica (baseline)", rate(baseline_page, s), len(baseline_page())),
            ("render: certificate, Chinese font embedded, QR code", rate(lambda: render_pdf("certificate", CERTIFICATE), s), len(certificate)),
            ("render: result letter, 2 pages", rate(lambda: render_pdf("letter", LETTER), s), len(letter)),
            ("SM3 of the certificate (baseline)", rate(lambda: crypto.sm3(certificate), s), len(certificate)),
            ("sign the certificate (SM3 + SM2)", rate(lambda: sign_document(certificate, "ABCD-EFGH-JKLM-NPQR", "certificate"), s), len(signed)),
            ("verify the signed certificate", rate(lambda: verify_document(signed, registry=None), s), len(signed)),
            ("SM3 of a 20 MB upload (baseline)", rate(lambda: crypto.sm3(huge), s), len(huge)),
            ("verify a 20 MB signed upload (the cap)", rate(lambda: verify_document(huge_signed, registry=None), s), len(huge_signed)),
        ]
        crypto.reset_keyring()

    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; {args.seconds:g} s per metric\n")
    print("| operation | per second | ms each | file size |")
    print("|---|---:|---:|---:|")
    for name, per_second, size in rows:
        print(f"| {name} | {per_second:,.1f} | {1000 / per_second:,.2f} | {size:,} B |")


if __name__ == "__main__":
    main()
