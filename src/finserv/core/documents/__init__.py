"""Documents: PDFs from layout templates (Chinese font embedded), SM2-signed when they carry
legal weight, and a public check that a file is authentic and unaltered.

The calls a module makes::

    from finserv.core.documents import issue_pdf, issue_document, revoke_document

    # a certificate or result letter: fresh id, QR code to the verification page, signed,
    # registered and audited in one call; hand out issued.data (a PDF)
    issued = issue_pdf("certificate", {"holder": "张三", "body": "…", "number": "…",
                                       "authority": "上海市地方金融管理局"},
                       title="张三 金融人才实践基地结业证书")

    # an Excel/CSV export with legal weight: a detached signature to hand out beside it
    issued = issue_document(xlsx_bytes, kind="export", title="2025 年度扶持资金拨付清单")
    issued.signature  # → save as "<file>.sig"

    revoke_document(issued.doc_id, reason="证书信息有误，已重新签发")

Lower level, without the register: :func:`render_pdf` (layout only), :func:`sign_document`
(PDF with an embedded signature), :func:`sign_detached`, :func:`verify_document` (the
verdict; it consults the register of the active site). Anyone may verify, anonymously:
``@@verify-document`` (page) and ``POST @verify-document`` (REST) on the site root. The
signature format is described in :mod:`finserv.core.documents.signature`, the font in
:mod:`finserv.core.documents.fonts`.
"""

from finserv.core.documents.fonts import FontNotFound
from finserv.core.documents.fonts import get_font
from finserv.core.documents.layout import TEMPLATES
from finserv.core.documents.layout import TemplateError
from finserv.core.documents.layout import register_template
from finserv.core.documents.layout import render_pdf
from finserv.core.documents.registry import ANNOTATION_KEY
from finserv.core.documents.registry import DocumentError
from finserv.core.documents.registry import DocumentRegistry
from finserv.core.documents.registry import IssuedDocument
from finserv.core.documents.registry import get_registry
from finserv.core.documents.registry import issue_document
from finserv.core.documents.registry import issue_pdf
from finserv.core.documents.registry import new_document_id
from finserv.core.documents.registry import revoke_document
from finserv.core.documents.registry import verification_url
from finserv.core.documents.signature import SignatureError
from finserv.core.documents.signature import sign_detached
from finserv.core.documents.signature import sign_pdf
from finserv.core.documents.verify import VerificationResult
from finserv.core.documents.verify import lookup_document
from finserv.core.documents.verify import verify_document


def sign_document(data: bytes, doc_id: str, kind: str, issuer: str = "") -> bytes:
    """The PDF *data* with an embedded SM2 signature line (not registered: see issue_document).

    Raises :class:`SignatureError` for anything but a PDF; sign those with
    :func:`sign_detached`, which returns the ``.sig`` to hand out beside the file.
    """
    return sign_pdf(data, doc_id, kind, issuer)


__all__ = [
    "ANNOTATION_KEY",
    "TEMPLATES",
    "DocumentError",
    "DocumentRegistry",
    "FontNotFound",
    "IssuedDocument",
    "SignatureError",
    "TemplateError",
    "VerificationResult",
    "get_font",
    "get_registry",
    "issue_document",
    "issue_pdf",
    "lookup_document",
    "new_document_id",
    "register_template",
    "render_pdf",
    "revoke_document",
    "sign_detached",
    "sign_document",
    "verification_url",
    "verify_document",
]
