"""Signed documents: what an auditor needs to see proven.

* generated PDFs open, their Chinese text reads back, and the Chinese font is embedded
  (subset) in the file, so they print the same everywhere;
* a document with legal weight is SM2-signed, entered in the register and audited; the
  signature survives in a file readers still open;
* verification rejects a changed byte anywhere in the content, an edited signature block,
  content appended after the signature, a signature by another key, a file without a
  signature; it reports revoked and unregistered documents as such;
* anyone can verify, anonymously, on the public page and through the REST API, which refuse
  empty, garbage and oversized input with 400 and a Chinese message, and store nothing.

Every test gets its own key directory (tmp_path).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import json
import os
import shutil
import subprocess

import pytest
import transaction
from openpyxl import Workbook
from openpyxl import load_workbook
from pypdf import PdfReader

from finserv.core import crypto
from finserv.core.audit import get_store
from finserv.core.documents import DocumentError
from finserv.core.documents import SignatureError
from finserv.core.documents import get_registry
from finserv.core.documents import issue_document
from finserv.core.documents import issue_pdf
from finserv.core.documents import fonts
from finserv.core.documents import layout
from finserv.core.documents import render_pdf
from finserv.core.documents import revoke_document
from finserv.core.documents import sign_detached
from finserv.core.documents import sign_document
from finserv.core.documents import verify_document
from finserv.core.documents import signature as sig
from finserv.core.documents.browser import MAX_UPLOAD
from finserv.core.documents.setup import install_documents
from finserv.core.documents.typeset import CANNOT_END
from finserv.core.documents.typeset import CANNOT_START
from finserv.core.documents.typeset import break_lines

AUTHORITY = "上海市地方金融管理局"
WQY_MICROHEI_SHA256 = "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"
CERTIFICATE = {
    "title": "结业证书",
    "holder": "张三丰",
    "body": "经考核合格，准予结业。该同志于2025年3月至2025年9月在上海金融人才实践基地参加为期六个月的实践锻炼，"
    "完成全部实践任务，表现优秀，特发此证。",
    "number": "沪金人才〔2025〕第0001号",
    "authority": AUTHORITY,
    "date": "2025年9月30日",
}
LETTER = {
    "authority": AUTHORITY,
    "doc_number": "沪金管函〔2025〕12号",
    "heading": "关于2025年度金融发展资金扶持项目评审结果的通知",
    "addressee": "上海某某金融科技有限公司",
    "paragraphs": [
        "你单位报送的《2025年度金融发展资金扶持申请》已收悉。经形式审查、专家评审和局长办公会议审议，现将评审结果通知如下：",
        "一、你单位申报的“供应链金融数字化平台”项目符合扶持条件，核定扶持资金人民币壹佰贰拾万元整（¥1,200,000.00）。",
        "二、扶持资金将于本通知送达之日起30个工作日内拨付至你单位基本存款账户。",
        "三、如对评审结果有异议，可自收到本通知之日起15日内向我局提出书面复核申请。",
        "特此通知。",
    ],
    "date": "2025年10月8日",
}


@pytest.fixture(autouse=True)
def document_keys(fresh_keys):
    return fresh_keys


def pdf_text(data: bytes) -> str:
    """All text of a PDF, read back with pypdf, whitespace removed (justified lines are spaced)."""
    reader = PdfReader(io.BytesIO(data))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def embedded_fonts(data: bytes) -> list[dict]:
    """(name, embedded as TrueType file) of every font the PDF's pages use."""
    reader = PdfReader(io.BytesIO(data))
    fonts = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            fonts.append({"name": str(font["/BaseFont"]), "embedded": "/FontFile2" in descriptor})
    return fonts


def last(store, action):
    for seq in range(store.last_seq, 0, -1):
        rec = store.get(seq)
        if rec["action"] == action:
            return rec
    return None


def flip(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


# --- PDF generation ---------------------------------------------------------------------------


def test_certificate_pdf_opens_and_its_chinese_text_reads_back_with_the_font_embedded():
    pdf = render_pdf("certificate", {**CERTIFICATE, "doc_id": "ABCD-EFGH-JKLM-NPQR",
                                      "verify_url": "https://example.gov.cn/@@verify-document?id=ABCD-EFGH-JKLM-NPQR"})
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (842, 595)  # A4 landscape
    text = pdf_text(pdf)
    for expected in ("结业证书", "张三丰", "经考核合格，准予结业。", "特发此证。", "沪金人才〔2025〕第0001号", AUTHORITY,
                     "2025年9月30日", "ABCD-EFGH-JKLM-NPQR", "扫码核验"):
        assert expected in text, expected
    fonts = embedded_fonts(pdf)
    assert fonts and all(f["embedded"] for f in fonts), fonts  # no font left to the reader's machine
    assert all("+" in f["name"] for f in fonts), fonts  # subset: only the glyphs used
    assert reader.metadata.title == "结业证书 张三丰"


def test_result_letter_has_red_head_document_number_heading_paragraphs_and_signature_block():
    pdf = render_pdf("letter", {**LETTER, "doc_id": "WXYZ-2345-6789-ABCD", "verify_url": "https://example.gov.cn/v"})
    reader = PdfReader(io.BytesIO(pdf))
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 portrait
    text = pdf_text(pdf)
    order = [AUTHORITY, "沪金管函〔2025〕12号", "关于2025年度金融发展资金扶持项目评审结果的通知", "上海某某金融科技有限公司：",
             "你单位报送的", "（¥1,200,000.00）。", "特此通知。", "2025年10月8日"]
    positions = [text.find(part) for part in order]
    assert all(p >= 0 for p in positions), dict(zip(order, positions))
    assert positions[2:] == sorted(positions[2:])
    assert "—1—" in text and "核验码：WXYZ-2345-6789-ABCD" in text
    content = b"".join(page.get_contents().get_data() for page in reader.pages)
    assert b".784314 .062745 .180392 rg" in content  # the red head (#C8102E) is red
    assert all(f["embedded"] for f in embedded_fonts(pdf))


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils not installed")
def test_poppler_reports_the_font_embedded_as_a_subset_with_a_unicode_map(tmp_path):
    path = tmp_path / "letter.pdf"
    path.write_bytes(render_pdf("letter", LETTER))
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert lines
    for line in lines:
        name, *_, emb, sub, uni, _obj, _gen = line.split()
        assert (emb, sub, uni) == ("yes", "yes", "yes"), line
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "评审结果" in "".join(text.split())


def test_long_chinese_text_wraps_inside_the_line_and_punctuation_never_starts_a_line():
    font = layout.get_font().name
    paragraph = ("你单位申报的“供应链金融数字化平台”项目符合扶持条件，核定扶持资金人民币壹佰贰拾万元整（¥1,200,000.00）。"
                 "请于项目完成后三个月内报送绩效评价报告，并按照《上海市金融发展资金管理办法》（沪府规〔2024〕5号）执行。") * 3
    for width in (200, 260, 300, 442):
        lines = break_lines(paragraph, font, 16, width, first_indent=32)
        assert "".join(lines) == paragraph  # nothing lost, nothing added
        for i, line in enumerate(lines):
            assert layout.stringWidth(line, font, 16) <= width - (32 if i == 0 else 0) + 0.01
            assert line[0] not in CANNOT_START, (width, line)
            assert line[-1] not in CANNOT_END, (width, line)
        assert not any(line.startswith(("200,000", "000.00", ",", ".")) for line in lines)  # numbers are whole


def test_values_are_set_as_plain_text_never_as_markup():
    holder = "<img src=\"/etc/passwd\"/> & <b>王五</b>"
    pdf = render_pdf("certificate", {**CERTIFICATE, "holder": holder})
    assert "<imgsrc=\"/etc/passwd\"/>&<b>王五</b>" in pdf_text(pdf)


def test_the_font_is_the_known_wenquanyi_micro_hei_from_the_installed_package():
    """A supply-chain guard: the font reportlab parses in-process is the file we reviewed
    (Apache-2.0; byte-identical to Debian's fonts-wqy-microhei 0.2.0-beta-3.1)."""
    font = fonts.get_font()
    assert font.path.endswith("paperang_p2_fonts_cjk/fonts/wqy-microhei.ttc")
    assert hashlib.sha256(open(font.path, "rb").read()).hexdigest() == WQY_MICROHEI_SHA256
    assert not font.missing("张三丰金融人才实践基地结业证书上海市地方金融管理局〔〕（）《》“”：；，。、¥")


def test_a_configured_font_that_cannot_be_embedded_falls_back_to_the_packaged_one(tmp_path, monkeypatch, caplog):
    bogus = tmp_path / "not-a-font.ttf"
    bogus.write_bytes(b"OTTO" + b"\x00" * 200)  # a CFF/OpenType header: reportlab cannot embed it
    monkeypatch.setenv("FINSERV_PDF_FONT", f"{bogus}:0")
    fonts.reset_font()
    try:
        assert fonts.get_font().path.endswith("wqy-microhei.ttc")
        assert "FINSERV_PDF_FONT" in caplog.text
    finally:
        monkeypatch.delenv("FINSERV_PDF_FONT")
        fonts.reset_font()


def test_templates_render_with_missing_data_and_non_text_values():
    for template in ("certificate", "letter"):
        assert PdfReader(io.BytesIO(render_pdf(template, {}))).pages
    text = pdf_text(render_pdf("letter", {"paragraphs": "第一段\n\n第二段", "date": datetime.date(2025, 1, 2), "heading": 42}))
    assert "第一段" in text and "第二段" in text and "2025年1月2日" in text and "42" in text


def test_unknown_template_is_refused_in_chinese():
    with pytest.raises(ValueError, match="未知的文件模板"):
        render_pdf("poster-that-does-not-exist", {})


# --- signing, the register and the audit trail --------------------------------------------------


def test_issued_certificate_is_signed_registered_audited_and_verifies_as_authentic(portal):
    issued = issue_pdf("certificate", CERTIFICATE, title="张三丰 金融人才实践基地结业证书")
    assert issued.data.startswith(b"%PDF-") and issued.signature is None
    assert issued.data.splitlines()[-1].startswith(b"%FINSERV-SIGNATURE {")
    result = verify_document(issued.data)
    assert result.valid and result.status == "valid" and result.verdict == "真实有效"
    assert (result.doc_id, result.kind, result.kind_title) == (issued.doc_id, "certificate", "证书")
    assert result.issuer == AUTHORITY and result.title == "张三丰 金融人才实践基地结业证书"
    assert result.signed_at.endswith("Z")
    entry = get_registry().get(issued.doc_id)
    assert entry["sm3"] == crypto.sm3_hex(sig.split_embedded(issued.data)[0])
    assert (entry["kind"], entry["issued_by"], entry["revoked"]) == ("certificate", "test_user_1_", False)
    rec = last(get_store(portal), "document.issue")
    assert rec["target"] == f"document:{issued.doc_id}" and rec["details"]["sm3"] == entry["sm3"]
    assert rec["actor"] == "test_user_1_"


def test_signed_pdf_still_opens_and_renders(portal, tmp_path):
    issued = issue_pdf("letter", LETTER, title="扶持结果通知书")
    assert "评审结果" in pdf_text(issued.data)  # readers ignore the signature comment after %%EOF
    assert len(issued.data) - issued.data.rfind(b"%%EOF") < 1024  # readers look for %%EOF there
    if shutil.which("pdftoppm"):
        path = tmp_path / "signed.pdf"
        path.write_bytes(issued.data)
        done = subprocess.run(["pdftoppm", "-png", "-r", "20", str(path), str(tmp_path / "page")],
                              capture_output=True, text=True)
        assert done.returncode == 0 and not done.stderr, done.stderr
        assert (tmp_path / "page-1.png").stat().st_size > 1000


def test_one_changed_byte_anywhere_in_the_signed_pdf_is_rejected_as_tampered(portal):
    issued = issue_pdf("certificate", CERTIFICATE, title="证书")
    content_end = len(sig.split_embedded(issued.data)[0])
    for position in (0, 9, content_end // 3, content_end // 2, content_end - 3, content_end - 1):
        result = verify_document(flip(issued.data, position))
        assert not result.valid, position
        assert (result.status, result.verdict) == ("tampered", "文件已被篡改"), (position, result)
        assert result.doc_id == issued.doc_id  # the reader learns which document was forged
    truncated = issued.data[:100] + issued.data[101:]
    assert verify_document(truncated).status == "tampered"


def test_an_edited_signature_block_is_rejected(portal):
    issued = issue_pdf("certificate", CERTIFICATE, title="证书")
    content, line, _ = sig.split_embedded(issued.data)
    fields = json.loads(line[len(sig.MARKER):])

    def with_fields(**changes):
        edited = {**fields, **changes}
        return content + sig.MARKER + json.dumps(edited, ensure_ascii=False).encode() + b"\n"

    other_sig = base64.b64encode(crypto.SoftwareSM2Signer.generate().sign(b"x")).decode()
    for changes in ({"doc_id": "FAKE-0000-0000-0000"}, {"kind": "letter"}, {"issuer": "另一个机构"},
                    {"signed_at": "2020-01-01T00:00:00Z"}, {"sig": other_sig}, {"sig": "bm90IGEgc2lnbmF0dXJl"}):
        result = verify_document(with_fields(**changes))
        assert (result.valid, result.status, result.verdict) == (False, "bad_signature", "签名无效"), changes
    # the digest edited to match changed content: the signature no longer covers it
    changed = flip(content, len(content) // 2)
    forged = changed + sig.MARKER + json.dumps({**fields, "sm3": crypto.sm3_hex(changed)}).encode() + b"\n"
    assert verify_document(forged).status == "bad_signature"
    # a damaged block: not JSON, a field missing, a field added, a changed byte
    for damaged in (issued.data[:-3] + b"\n", with_fields(extra="1"), content + sig.MARKER + b"{}\n",
                    flip(issued.data, len(issued.data) - 40)):
        result = verify_document(damaged)
        assert not result.valid and result.status in ("bad_signature", "tampered"), damaged[-80:]


def test_content_appended_after_the_signature_is_rejected(portal):
    """An incremental update after the signature would change what a reader displays."""
    issued = issue_pdf("certificate", CERTIFICATE, title="证书")
    update = b"9 0 obj\n<< /Type /Annot /Subtype /FreeText >>\nendobj\nstartxref\n123\n%%EOF\n"
    for appended in (issued.data + update, issued.data + b"\n", issued.data + issued.data.splitlines(True)[-1]):
        result = verify_document(appended)
        assert (result.valid, result.verdict) == (False, "文件已被篡改"), appended[-60:]


def test_a_signature_by_another_key_is_rejected(portal):
    pdf = render_pdf("certificate", CERTIFICATE)
    stranger = crypto.SoftwareSM2Signer.generate()
    forged = sig.sign_pdf(pdf, "ABCD-EFGH-JKLM-NPQR", "certificate", AUTHORITY, signer=stranger)
    result = verify_document(forged)
    assert (result.valid, result.status, result.verdict) == (False, "bad_signature", "签名无效")
    assert "密钥" in result.reason
    assert result.issuer is None and result.kind is None  # a forger's claims are not echoed
    # …also when the forger names the office's key in the block
    ours = sig.key_fingerprint(crypto.get_signer("system").public_key_pem())
    content, line, _ = sig.split_embedded(forged)
    fields = {**json.loads(line[len(sig.MARKER):]), "key": ours}
    fields["sig"] = base64.b64encode(stranger.sign(sig.signed_message(fields))).decode()
    result = verify_document(content + sig.MARKER + json.dumps(fields, ensure_ascii=False).encode() + b"\n")
    assert (result.valid, result.status) == (False, "bad_signature")


def test_a_file_without_signature_is_reported_as_no_signature_found(portal):
    result = verify_document(render_pdf("letter", LETTER))
    assert (result.valid, result.status, result.verdict) == (False, "unsigned", "未找到签名")
    assert verify_document(b"").status == "unsigned"
    assert verify_document(b"\x00garbage" * 100).status == "unsigned"


def test_a_revoked_document_verifies_as_revoked_and_the_revocation_is_audited(portal):
    issued = issue_pdf("certificate", CERTIFICATE, title="证书")
    revoke_document(issued.doc_id, reason="证书信息有误，已重新签发")
    result = verify_document(issued.data)
    assert (result.valid, result.status, result.verdict) == (False, "revoked", "已撤销")
    assert "证书信息有误" in result.reason and result.revoked_at and result.revoke_reason == "证书信息有误，已重新签发"
    rec = last(get_store(portal), "document.revoke")
    assert rec["target"] == f"document:{issued.doc_id}" and rec["details"]["reason"] == "证书信息有误，已重新签发"
    with pytest.raises(DocumentError, match="已经撤销"):
        revoke_document(issued.doc_id, reason="再次撤销")
    with pytest.raises(DocumentError, match="未找到"):
        revoke_document("NOPE-NOPE-NOPE-NOPE", reason="x")
    with pytest.raises(DocumentError, match="撤销原因"):
        revoke_document(issue_pdf("letter", LETTER, title="函").doc_id, reason="  ")


def test_a_genuine_signature_on_a_document_the_register_does_not_know_is_not_valid(portal):
    signed = sign_document(render_pdf("certificate", CERTIFICATE), "ABCD-EFGH-JKLM-NPQR", "certificate", AUTHORITY)
    result = verify_document(signed)
    assert (result.valid, result.status, result.verdict) == (False, "unregistered", "未登记")
    # offline (no register), the same file's signature is genuine
    assert verify_document(signed, registry=None).valid


def test_an_earlier_signed_version_of_a_registered_document_is_not_valid(portal):
    issued = issue_pdf("certificate", CERTIFICATE, title="证书")
    older = sign_document(render_pdf("certificate", {**CERTIFICATE, "holder": "李四"}), issued.doc_id, "certificate",
                          AUTHORITY)
    result = verify_document(older)
    assert (result.valid, result.status, result.verdict) == (False, "mismatch", "与登记信息不一致")


def test_documents_still_verify_after_the_signing_key_is_rotated(portal, tmp_path):
    issued = issue_pdf("certificate", CERTIFICATE, title="证书")
    crypto.reset_keyring(tmp_path / "new-keys")  # a new system key
    assert verify_document(issued.data).valid  # the register remembers the key it was signed with
    assert issue_pdf("letter", LETTER, title="函").entry["key"] != issued.entry["key"]


def test_excel_export_gets_a_detached_signature_that_detects_a_changed_cell(portal):
    book = Workbook()
    book.active.append(["企业名称", "扶持金额"])
    book.active.append(["上海某某金融科技有限公司", 1200000])
    stream = io.BytesIO()
    book.save(stream)
    issued = issue_document(stream.getvalue(), kind="export", title="2025 年度扶持资金拨付清单", issuer=AUTHORITY)
    assert issued.data == stream.getvalue() and issued.signature  # the file itself is unchanged
    assert json.loads(issued.signature)["format"] == "detached"
    assert verify_document(issued.data, issued.signature).verdict == "真实有效"
    sheet = load_workbook(io.BytesIO(issued.data))
    sheet.active["B2"] = 9_999_999
    changed = io.BytesIO()
    sheet.save(changed)
    assert verify_document(changed.getvalue(), issued.signature).verdict == "文件已被篡改"
    stranger = sign_detached(issued.data, issued.doc_id, "export", AUTHORITY, signer=crypto.SoftwareSM2Signer.generate())
    assert verify_document(issued.data, stranger).verdict == "签名无效"
    assert verify_document(issued.data, b"not json").verdict == "签名无效"
    with pytest.raises(SignatureError, match="只能在 PDF"):
        sign_document(issued.data, "ABCD-EFGH-JKLM-NPQR", "export")


def test_document_ids_are_unique_random_and_a_pdf_is_not_signed_twice(portal):
    first = issue_pdf("certificate", CERTIFICATE, title="证书")
    second = issue_pdf("certificate", CERTIFICATE, title="证书")
    assert first.doc_id != second.doc_id and len(first.doc_id) == 19
    with pytest.raises(DocumentError, match="已存在"):
        issue_document(render_pdf("letter", LETTER), kind="letter", title="函", doc_id=first.doc_id)
    with pytest.raises(DocumentError, match="重复签名"):
        issue_document(first.data, kind="certificate", title="证书")
    assert len(get_registry()) == 2


def test_install_step_creates_the_register_once(portal):
    registry = get_registry(portal)
    assert registry is not None
    issue_pdf("letter", LETTER, title="函")
    install_documents(portal)
    assert get_registry(portal) is registry and len(registry) == 1


def test_the_certificate_qr_code_links_to_the_public_verification_page(portal, monkeypatch):
    encoded = []
    real_make = layout.segno.make
    monkeypatch.setattr(layout.segno, "make", lambda data, **kw: encoded.append(data) or real_make(data, **kw))
    issued = issue_pdf("certificate", CERTIFICATE, title="证书")
    assert encoded == [f"{portal.absolute_url()}/@@verify-document?id={issued.doc_id}"]


@pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="poppler-utils or zbar-tools missing")
def test_the_printed_qr_code_scans_to_the_verification_url(portal, tmp_path):
    issued = issue_pdf("certificate", CERTIFICATE, title="证书")
    (tmp_path / "c.pdf").write_bytes(issued.data)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(tmp_path / "c.pdf"), str(tmp_path / "c")], check=True)
    scanned = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "c-1.png")], capture_output=True, text=True)
    assert scanned.stdout.strip() == f"{portal.absolute_url()}/@@verify-document?id={issued.doc_id}"


# --- the public page and the REST endpoint --------------------------------------------------------


@pytest.fixture
def issued(functional_portal):
    """A certificate, a revoked letter and a signed Excel export, committed for the web server."""
    certificate = issue_pdf("certificate", CERTIFICATE, title="张三丰 结业证书")
    letter = issue_pdf("letter", LETTER, title="扶持结果通知书")
    revoke_document(letter.doc_id, reason="通知书内容有误")
    export = issue_document(b"name,amount\nA,1\n", kind="export", title="拨付清单", issuer=AUTHORITY)
    transaction.commit()
    return {"certificate": certificate, "letter": letter, "export": export}


def page(request_factory):
    session = request_factory(api=False)
    session.headers["Accept"] = "text/html"
    return session


def test_anonymous_visitor_verifies_a_file_on_the_public_page(functional_portal, issued, request_factory):
    browser = page(request_factory)
    response = browser.get("@@verify-document")
    assert response.status_code == 200 and "文件真伪核验" in response.text and 'type="file"' in response.text
    certificate = issued["certificate"]
    response = browser.post("@@verify-document", files={"file": ("证书.pdf", certificate.data, "application/pdf")})
    assert response.status_code == 200
    assert "真实有效" in response.text and certificate.doc_id in response.text and AUTHORITY in response.text
    assert "张三丰 结业证书" in response.text
    tampered = flip(certificate.data, len(certificate.data) // 2)
    response = browser.post("@@verify-document", files={"file": ("证书.pdf", tampered, "application/pdf")})
    assert response.status_code == 200 and "文件已被篡改" in response.text and "真实有效" not in response.text
    response = browser.post("@@verify-document", files={"file": ("通知书.pdf", issued["letter"].data)})
    assert "已撤销" in response.text and "通知书内容有误" in response.text
    response = browser.post("@@verify-document", files={"file": ("a.pdf", render_pdf("letter", LETTER))})
    assert "未找到签名" in response.text
    export = issued["export"]
    response = browser.post("@@verify-document", files={"file": ("清单.csv", export.data), "signature": ("清单.csv.sig", export.signature)})
    assert "真实有效" in response.text


def test_the_qr_code_link_shows_the_register_entry_to_anonymous_visitors(functional_portal, issued, request_factory):
    browser = page(request_factory)
    response = browser.get("@@verify-document", params={"id": issued["certificate"].doc_id})
    assert response.status_code == 200 and "已登记，状态有效" in response.text and "张三丰 结业证书" in response.text
    response = browser.get("@@verify-document", params={"id": issued["letter"].doc_id})
    assert "已撤销" in response.text
    response = browser.get("@@verify-document", params={"id": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
    assert response.status_code == 200 and "未登记" in response.text
    response = browser.get("@@verify-document", params={"id": "<script>"})
    assert response.status_code == 400 and "核验码格式不正确" in response.text and "<script>" not in response.text
    api = request_factory()
    data = api.get("@verify-document", params={"id": issued["letter"].doc_id}).json()
    assert (data["status"], data["verdict"], data["revoke_reason"]) == ("revoked", "已撤销", "通知书内容有误")


def test_anonymous_client_verifies_through_the_rest_api_by_upload_and_by_json(functional_portal, issued, request_factory):
    api = request_factory()
    certificate = issued["certificate"]
    response = api.post("@verify-document", files={"file": ("c.pdf", certificate.data, "application/pdf")})
    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["valid"], data["status"], data["verdict"]) == (True, "valid", "真实有效")
    assert (data["doc_id"], data["kind"], data["kind_title"], data["issuer"]) == (certificate.doc_id, "certificate", "证书", AUTHORITY)
    assert data["signed_at"] and data["title"] == "张三丰 结业证书"
    response = api.post("@verify-document", json={"data": base64.b64encode(flip(certificate.data, 500)).decode()})
    assert response.status_code == 200 and response.json()["verdict"] == "文件已被篡改"
    export = issued["export"]
    response = api.post("@verify-document", json={"data": base64.b64encode(export.data).decode(),
                                                  "signature": json.loads(export.signature)})
    assert response.json()["verdict"] == "真实有效"
    response = api.post("@verify-document", json={"data": base64.b64encode(issued["letter"].data).decode()})
    assert (response.json()["status"], response.json()["verdict"]) == ("revoked", "已撤销")


def test_page_and_api_refuse_empty_garbage_and_oversized_input_with_400_in_chinese(functional_portal, issued, request_factory):
    api = request_factory()
    huge = b"%PDF-1.4\n" + b"0" * (MAX_UPLOAD + 1)
    cases = [
        ({"files": {"file": ("empty.pdf", b"")}}, "空"),
        ({"files": {"file": ("random.bin", os.urandom(4096))}}, "无法识别的文件"),
        ({"files": {"file": ("huge.pdf", huge)}}, "文件过大"),
        ({"files": {"other": ("a.pdf", b"%PDF-")}}, "请选择要核验的文件"),
        ({"json": {"data": "不是 base64!"}}, "Base64"),
        ({"json": {"data": ""}}, "请选择要核验的文件"),
        ({"json": ["not", "an", "object"]}, "请求格式不正确"),
        ({"data": b"{broken json", "headers": {"Content-Type": "application/json"}}, "请求格式不正确"),
        ({"json": {"data": base64.b64encode(huge).decode()}}, "文件过大"),
        ({"json": {"data": base64.b64encode(b"%PDF-1.4").decode(), "signature": "x" * 40000}}, "签名文件过大"),
    ]
    for kwargs, message in cases:
        response = api.post("@verify-document", **kwargs)
        assert response.status_code == 400, (kwargs.keys(), response.status_code, response.text[:200])
        body = response.json()
        assert body["type"] == "BadRequest" and message in body["message"], body
    browser = page(request_factory)
    for files, message in (({"file": ("empty.pdf", b"")}, "空"), ({"file": ("x.bin", b"\x00\x01garbage")}, "无法识别的文件"),
                           ({"file": ("huge.pdf", huge)}, "文件过大")):
        response = browser.post("@@verify-document", files=files)
        assert response.status_code == 400 and message in response.text, (files.keys(), response.status_code)
        assert "文件真伪核验" in response.text  # the page, with its form, not an error page


def test_verification_stores_nothing_and_adds_nothing_to_the_audit_trail(functional_portal, issued, request_factory):
    store = get_store(functional_portal)
    before = (store.last_seq, len(get_registry(functional_portal)))
    api = request_factory()
    for _ in range(3):
        api.post("@verify-document", files={"file": ("c.pdf", issued["certificate"].data)})
        page(request_factory).post("@@verify-document", files={"file": ("c.pdf", b"%PDF-1.4 junk")})
    transaction.begin()
    assert (get_store(functional_portal).last_seq, len(get_registry(functional_portal))) == before
