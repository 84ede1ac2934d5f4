"""SM2 signatures on issued files: embedded in a PDF, or detached (``.sig``) for any file.

No Plone here: this checks a file against the keys it is given. The registry and the
verdict a person reads are in :mod:`finserv.core.documents.verify`.

Embedded (PDF)
    The signed file is the PDF, ending in an end-of-line, followed by one last line::

        %FINSERV-SIGNATURE {"alg":"SM2-SM3","doc_id":…,"sig":"<base64 DER>",…}\\n

    A PDF comment after ``%%EOF``: readers ignore it, the cross-reference offsets stay valid.
    The line stays short (under 1 KiB) because some readers look for ``%%EOF`` only in a
    file's last 1024 bytes. Nothing may follow it: an incremental update appended after the
    signature (which readers would display) makes the file "tampered".

Detached (``.sig``)
    A small JSON file with the same fields and ``"format": "detached"``; the signed file is
    left as it is (Excel and CSV exports).

What is signed (both forms): the UTF-8 bytes of ``SIGNED_PREFIX`` followed by the canonical
JSON (sorted keys, no spaces) of every field except ``sig`` — version, algorithm, format,
document id, kind, signing time, issuer, size and SM3 of the content, and the SM3 fingerprint
of the signer's public key. The content digest binds the file; the rest binds what the
verification page tells a reader about it. The SM2 signature is over SM3(Z_A ‖ that message)
with the default ID (GM/T 0009), made by :func:`finserv.core.crypto.get_signer`.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from dataclasses import dataclass

from finserv import _
from finserv.core import crypto
from finserv.core.audit.store import key_fingerprint  # one definition of a key's fingerprint

VERSION = 1
ALGORITHM = "SM2-SM3"
MARKER = b"%FINSERV-SIGNATURE "
SIGNED_PREFIX = b"FINSERV-DOCUMENT-SIGNATURE/1\n"  # domain separation from other SM2 uses
SIGNER = "system"
MAX_TRAILER = 1000  # bytes, so that %%EOF stays within a reader's last-1024-bytes window
MAX_DETACHED = 16 * 1024
FIELDS = frozenset({"v", "alg", "format", "doc_id", "kind", "signed_at", "issuer", "size", "sm3", "key", "sig"})
DOC_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")
KIND = re.compile(r"[a-z][a-z0-9_.-]{0,31}")
MAX_ISSUER = 60


class SignatureError(ValueError):
    """A file that cannot be signed as asked; the message is Chinese and safe to show."""


# Outcomes of checking a signature (the verdicts in verify.py build on these)
UNSIGNED = "unsigned"  # no signature block
MALFORMED = "malformed"  # a signature block that is not ours or is damaged
TAMPERED = "tampered"  # the content does not match the signed digest, or was appended to
UNTRUSTED = "untrusted_key"  # signed by a key we do not know
BAD_SIGNATURE = "bad_signature"  # the signature does not verify: block edited or forged
SIGNED = "signed"  # the signature verifies


@dataclass
class SignatureCheck:
    outcome: str
    detail: str = ""  # a message (finserv domain) for people; never key material
    fields: dict | None = None  # the signature block's fields once parsed
    content_sm3: str = ""  # SM3 of the content that was checked

    @property
    def ok(self) -> bool:
        return self.outcome == SIGNED


def now_utc() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_pdf(data: bytes) -> bool:
    """True if *data* starts like a PDF (the header may follow up to 1 KiB of junk)."""
    return b"%PDF-" in data[:1024]


def signed_message(fields: dict) -> bytes:
    """The bytes the SM2 signature covers: every field but ``sig``, canonical JSON."""
    body = {k: v for k, v in fields.items() if k != "sig"}
    return SIGNED_PREFIX + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _check_ids(doc_id: str, kind: str, issuer: str) -> None:
    if not isinstance(doc_id, str) or not DOC_ID.fullmatch(doc_id):
        raise SignatureError("文件编号格式不正确（3–64 位字母、数字、点、下划线或连字符）")
    if not isinstance(kind, str) or not KIND.fullmatch(kind):
        raise SignatureError("文件类型格式不正确（小写字母开头，至多 32 位）")
    if len(issuer) > MAX_ISSUER:
        raise SignatureError(f"签发机构名称过长（至多 {MAX_ISSUER} 字）")


def _fields(content: bytes, doc_id: str, kind: str, issuer: str, fmt: str, signer, signed_at: str | None) -> dict:
    _check_ids(doc_id, kind, issuer)
    fields = {
        "v": VERSION,
        "alg": ALGORITHM,
        "format": fmt,
        "doc_id": doc_id,
        "kind": kind,
        "signed_at": signed_at or now_utc(),
        "issuer": issuer,
        "size": len(content),
        "sm3": crypto.sm3_hex(content),
        "key": key_fingerprint(signer.public_key_pem()),
    }
    fields["sig"] = base64.b64encode(signer.sign(signed_message(fields))).decode("ascii")
    return fields


def _trailer(fields: dict) -> bytes:
    return MARKER + json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def sign_pdf(data: bytes, doc_id: str, kind: str, issuer: str = "", signer=None, signed_at: str | None = None) -> bytes:
    """Return the PDF *data* with an embedded SM2 signature line appended."""
    data = bytes(data)
    if not is_pdf(data):
        raise SignatureError("只能在 PDF 文件中嵌入签名；其他格式请使用分离签名（.sig）")
    if split_embedded(data) is not None:
        raise SignatureError("文件已经签过名，不能重复签名")
    if not data.rstrip().endswith(b"%%EOF"):
        raise SignatureError("PDF 文件不完整（缺少 %%EOF）")
    if not data.endswith((b"\n", b"\r")):
        data += b"\n"
    signer = signer or crypto.get_signer(SIGNER)
    trailer = _trailer(_fields(data, doc_id, kind, issuer, "pdf", signer, signed_at))
    if len(trailer) > MAX_TRAILER:
        raise SignatureError("签名信息过长")
    return data + trailer


def sign_detached(data: bytes, doc_id: str, kind: str, issuer: str = "", signer=None, signed_at: str | None = None) -> bytes:
    """Return a detached signature (UTF-8 JSON, to save as ``<file>.sig``) for any *data*."""
    signer = signer or crypto.get_signer(SIGNER)
    fields = _fields(bytes(data), doc_id, kind, issuer, "detached", signer, signed_at)
    return json.dumps(fields, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8") + b"\n"


def split_embedded(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(content, signature line, what follows it) for a file with an embedded signature line,
    or None if there is none. The last marker is taken; the content is everything before it
    (its final end-of-line included, so a change there is a change to the content)."""
    start = data.rfind(MARKER)
    if start < 0:
        return None
    end = data.find(b"\n", start)
    end = len(data) if end < 0 else end + 1
    return data[:start], data[start:end], data[end:]


def _parse(raw: bytes, fmt: str) -> dict | None:
    try:
        fields = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(fields, dict) or set(fields) != FIELDS:
        return None
    if fields["v"] != VERSION or fields["alg"] != ALGORITHM or fields["format"] != fmt:
        return None
    strings = ("doc_id", "kind", "signed_at", "issuer", "sm3", "key", "sig")
    if not all(isinstance(fields[k], str) for k in strings) or type(fields["size"]) is not int:
        return None
    if not DOC_ID.fullmatch(fields["doc_id"]) or not KIND.fullmatch(fields["kind"]):
        return None
    if not re.fullmatch(r"[0-9a-f]{64}", fields["sm3"]) or not re.fullmatch(r"[0-9a-f]{64}", fields["key"]):
        return None
    return fields


def check_signature(data: bytes, trusted_keys: dict[str, bytes | str], detached: bytes | None = None) -> SignatureCheck:
    """Check the signature on *data* (embedded, or the *detached* ``.sig`` given).

    *trusted_keys* maps key fingerprints to PEM public keys; a signature by any other key is
    :data:`UNTRUSTED`, whatever key the signature block names.
    """
    data = bytes(data or b"")
    if detached is not None:
        if len(detached) > MAX_DETACHED:
            return SignatureCheck(MALFORMED, _("doc_sig_detached_too_big", default="签名文件过大，不是本系统生成的签名文件。"))
        fields = _parse(bytes(detached), "detached")
        if fields is None:
            return SignatureCheck(MALFORMED, _("doc_sig_detached_malformed", default="签名文件格式不正确或已损坏。"))
        content = data
    else:
        parts = split_embedded(data)
        if parts is None:
            return SignatureCheck(UNSIGNED, _("doc_sig_none", default="文件中没有本系统的数字签名。"))
        content, line, rest = parts
        if rest:
            return SignatureCheck(
                TAMPERED,
                _("doc_sig_appended", default="签名之后被追加了内容（对 PDF 的增量修改会改变显示的内容）。"),
                _parse(line[len(MARKER) : -1], "pdf"),
                crypto.sm3_hex(data),
            )
        if not line.endswith(b"\n"):
            return SignatureCheck(MALFORMED, _("doc_sig_incomplete", default="签名信息不完整。"))
        fields = _parse(line[len(MARKER) : -1], "pdf")
        if fields is None:
            return SignatureCheck(MALFORMED, _("doc_sig_malformed", default="签名信息格式不正确或已被改动。"))
    digest = crypto.sm3_hex(content)
    if len(content) != fields["size"] or digest != fields["sm3"]:
        return SignatureCheck(TAMPERED, _("doc_sig_content_changed", default="文件内容与签名时不一致，文件在签发后被改动过。"), fields, digest)
    pem = trusted_keys.get(fields["key"])
    if pem is None:
        return SignatureCheck(UNTRUSTED, _("doc_sig_untrusted", default="签名所用的密钥不是本机构的签名密钥。"), fields, digest)
    try:
        signature = base64.b64decode(fields["sig"], validate=True)
    except (binascii.Error, ValueError):
        return SignatureCheck(BAD_SIGNATURE, _("doc_sig_bad_value", default="签名值格式不正确。"), fields, digest)
    pem_bytes = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        good = crypto.sm2_verify(pem_bytes, signed_message(fields), signature)
    except crypto.CryptoError:
        good = False
    if not good:
        return SignatureCheck(BAD_SIGNATURE, _("doc_sig_bad", default="签名校验失败：签名信息被改动，或签名系伪造。"), fields, digest)
    return SignatureCheck(SIGNED, _("doc_sig_ok", default="签名有效。"), fields, digest)
