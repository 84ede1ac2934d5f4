"""Verifying a file a person hands in: the verdict the public page and the REST API give.

:func:`verify_document` checks the SM2 signature (embedded or detached) against the keys the
office signs with, then the register: a genuine signature on a document that was revoked,
or that the register does not know, or whose content is not the registered one, is not
valid. :func:`lookup_document` answers for a document id alone (the QR code's link).
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass

from zope.i18n import translate

from finserv import _
from finserv.core.documents import signature as sig
from finserv.core.documents.registry import DocumentRegistry
from finserv.core.documents.registry import find_entry
from finserv.core.documents.registry import get_registry
from finserv.core.documents.registry import trusted_keys

VALID = "valid"
TAMPERED = "tampered"
BAD_SIGNATURE = "bad_signature"
UNSIGNED = "unsigned"
REVOKED = "revoked"
UNREGISTERED = "unregistered"
MISMATCH = "mismatch"
REGISTERED = "registered"  # lookup by id only: the register has it, not revoked

VERDICTS = {
    VALID: _("doc_verdict_valid", default="真实有效"),
    TAMPERED: _("doc_verdict_tampered", default="文件已被篡改"),
    BAD_SIGNATURE: _("doc_verdict_bad_signature", default="签名无效"),
    UNSIGNED: _("doc_verdict_unsigned", default="未找到签名"),
    REVOKED: _("doc_verdict_revoked", default="已撤销"),
    UNREGISTERED: _("doc_verdict_unregistered", default="未登记"),
    MISMATCH: _("doc_verdict_mismatch", default="与登记信息不一致"),
    REGISTERED: _("doc_verdict_registered", default="已登记，状态有效"),
}

KIND_TITLES = {
    "certificate": _("doc_kind_certificate", default="证书"),
    "letter": _("doc_kind_letter", default="结果通知书"),
    "export": _("doc_kind_export", default="数据导出"),
    "report": _("doc_kind_report", default="报告"),
    "badge": _("doc_kind_badge", default="证件"),
}

_OUTCOME_STATUS = {
    sig.UNSIGNED: UNSIGNED,
    sig.MALFORMED: BAD_SIGNATURE,
    sig.TAMPERED: TAMPERED,
    sig.UNTRUSTED: BAD_SIGNATURE,
    sig.BAD_SIGNATURE: BAD_SIGNATURE,
}

_AUTO = object()


def _text(message, request=None) -> str:
    if request is None:
        from zope.globalrequest import getRequest

        request = getRequest()
    return translate(message, context=request) if request is not None else translate(message)


@dataclass
class VerificationResult:
    valid: bool
    status: str  # one of VERDICTS' keys
    verdict: str  # 真实有效 / 文件已被篡改 / 签名无效 / 未找到签名 / 已撤销 / 未登记 / 与登记信息不一致
    reason: str  # one or two Chinese sentences saying why
    doc_id: str | None = None
    kind: str | None = None
    kind_title: str | None = None
    title: str | None = None  # from the register
    signed_at: str | None = None  # UTC, ISO 8601
    issuer: str | None = None
    issued_at: str | None = None
    revoked_at: str | None = None
    revoke_reason: str | None = None
    sm3: str | None = None  # of the content that was checked

    def as_dict(self) -> dict:
        return asdict(self)


def _result(status: str, reason, request=None, fields: dict | None = None, entry: dict | None = None, sm3="") -> VerificationResult:
    fields = fields or {}
    entry = entry or {}
    kind = fields.get("kind") or entry.get("kind")
    kind_title = KIND_TITLES.get(kind)
    return VerificationResult(
        valid=status == VALID,
        status=status,
        verdict=_text(VERDICTS[status], request),
        reason=_text(reason, request),
        doc_id=fields.get("doc_id") or entry.get("doc_id"),
        kind=kind,
        kind_title=_text(kind_title, request) if kind_title is not None else kind,
        title=entry.get("title"),
        signed_at=fields.get("signed_at") or entry.get("issued_at"),
        issuer=fields.get("issuer") or entry.get("issuer"),
        issued_at=entry.get("issued_at"),
        revoked_at=entry.get("revoked_at"),
        revoke_reason=entry.get("revoke_reason"),
        sm3=sm3 or None,
    )


def verify_document(
    data: bytes,
    sig_data: bytes | None = None,
    registry: DocumentRegistry | None = _AUTO,  # type: ignore[assignment]
    request=None,
) -> VerificationResult:
    """Is *data* a document this office issued, unaltered and not revoked?

    *sig_data* is the detached ``.sig`` for a file without an embedded signature. The
    register is the active site's unless one is given; with ``registry=None`` only the
    signature is checked (status "valid" then means: genuine and unaltered).
    """
    if registry is _AUTO:
        registry = get_registry()
    data = bytes(data or b"")
    if not data:
        return _result(UNSIGNED, _("doc_reason_empty", default="文件为空。"), request)
    check = sig.check_signature(data, trusted_keys(registry), detached=sig_data)
    if not check.ok:
        # the block's fields are unverified (anyone can write them): show the id it claims,
        # and what the register (trusted) says about that id, nothing else
        claimed = {"doc_id": check.fields["doc_id"]} if check.fields else None
        entry = find_entry(claimed["doc_id"], registry) if claimed else None
        return _result(_OUTCOME_STATUS[check.outcome], check.detail, request, claimed, entry, check.content_sm3)
    fields = check.fields
    if registry is None:
        reason = _("doc_reason_valid_unregistered_check", default="签名有效，文件自签发以来未被改动（未查询登记信息）。")
        return _result(VALID, reason, request, fields, None, check.content_sm3)
    entry = registry.get(fields["doc_id"])
    if entry is None:
        reason = _("doc_reason_unregistered", default="签名有效，但本系统没有该编号文件的登记记录，请向签发机构核实。")
        return _result(UNREGISTERED, reason, request, fields, None, check.content_sm3)
    if entry["sm3"] != check.content_sm3:
        reason = _(
            "doc_reason_mismatch",
            default="签名有效，但与登记的文件内容不一致（可能是被替换的旧版本），请向签发机构核实。",
        )
        return _result(MISMATCH, reason, request, fields, entry, check.content_sm3)
    if entry["revoked"]:
        reason = _(
            "doc_reason_revoked",
            default="该文件已由签发机构撤销，不再有效。撤销原因：${reason}",
            mapping={"reason": entry.get("revoke_reason") or ""},
        )
        return _result(REVOKED, reason, request, fields, entry, check.content_sm3)
    reason = _("doc_reason_valid", default="签名有效，文件自签发以来未被改动，登记状态正常。")
    return _result(VALID, reason, request, fields, entry, check.content_sm3)


def lookup_document(doc_id: str, registry: DocumentRegistry | None = _AUTO, request=None) -> VerificationResult:  # type: ignore[assignment]
    """The register's answer for a document id alone (no file): registered, revoked or unknown."""
    if registry is _AUTO:
        registry = get_registry()
    entry = find_entry(doc_id, registry)
    if entry is None:
        reason = _("doc_reason_lookup_unknown", default="本系统没有该核验码对应的文件登记记录。")
        return _result(UNREGISTERED, reason, request, {"doc_id": doc_id})
    if entry["revoked"]:
        reason = _(
            "doc_reason_revoked",
            default="该文件已由签发机构撤销，不再有效。撤销原因：${reason}",
            mapping={"reason": entry.get("revoke_reason") or ""},
        )
        return _result(REVOKED, reason, request, None, entry)
    reason = _(
        "doc_reason_lookup_registered",
        default="该核验码对应的文件已登记且未被撤销。登记信息只能说明文件曾经签发；要确认手中的文件未被改动，请上传文件核验。",
    )
    return _result(REGISTERED, reason, request, None, entry)
