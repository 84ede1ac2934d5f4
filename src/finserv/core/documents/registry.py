"""The register of issued documents, kept in the ZODB on the site root (an annotation).

One entry per document id: its SM3, kind, title, size, format, issuer, when and by whom it
was issued, the signing key, and whether (when, by whom, why) it was revoked. Issuing and
revoking are audited (``document.issue``, ``document.revoke``). The public keys documents
were signed with are remembered too, so documents still verify after the key is rotated.

Entries live in an OOBTree keyed by random ids (no hot spot for concurrent issuing); an entry
is a plain dict that is replaced, never mutated in place.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from finserv.core import crypto
from finserv.core.storage import site_storage
from finserv.core.documents import signature as sig

ANNOTATION_KEY = "finserv.documents.registry"
ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: it is typed from paper
MAX_TITLE = 200
MAX_REASON = 500


class DocumentError(ValueError):
    """Issuing or revoking was refused; the message is Chinese and safe to show."""


class DocumentRegistry(Persistent):
    def __init__(self):
        self._entries = OOBTree()
        self._keys = OOBTree()  # key fingerprint -> PEM public key (str)
        self._count = Length()

    def __len__(self) -> int:
        return self._count()

    def __contains__(self, doc_id) -> bool:
        return isinstance(doc_id, str) and doc_id in self._entries

    def get(self, doc_id: str) -> dict | None:
        if not isinstance(doc_id, str):
            return None
        entry = self._entries.get(doc_id)
        return dict(entry) if entry is not None else None

    def ids(self):
        return self._entries.keys()

    def add(self, entry: dict) -> None:
        doc_id = entry["doc_id"]
        if doc_id in self._entries:
            raise DocumentError(f"文件编号已存在：{doc_id}")
        self._entries[doc_id] = dict(entry)
        self._count.change(1)

    def replace(self, doc_id: str, **changes) -> dict:
        entry = self._entries[doc_id]
        entry = {**entry, **changes}
        self._entries[doc_id] = entry
        return dict(entry)

    def remember_key(self, public_key_pem: bytes | str) -> str:
        pem = public_key_pem.decode("ascii") if isinstance(public_key_pem, bytes) else public_key_pem
        fingerprint = sig.key_fingerprint(pem)
        if self._keys.get(fingerprint) != pem:  # write only when new: no conflicts on issuing
            self._keys[fingerprint] = pem
        return fingerprint

    def keys(self) -> dict[str, str]:
        return dict(self._keys.items())


# --- access ---------------------------------------------------------------------------------


def _portal():
    from finserv.core.audit import _portal as audit_portal

    return audit_portal()


def get_registry(portal=None, create: bool = False) -> DocumentRegistry | None:
    """The site's document register (created if *create*), or None without a site."""
    portal = portal if portal is not None else _portal()
    return site_storage(portal, ANNOTATION_KEY, DocumentRegistry if create else None)


def trusted_keys(registry: DocumentRegistry | None = None) -> dict[str, str]:
    """Fingerprint → PEM of every key whose signatures we accept: the current document
    signer's, and those documents in the register were signed with."""
    pem = crypto.get_signer(sig.SIGNER).public_key_pem()
    keys = {sig.key_fingerprint(pem): pem.decode("ascii")}
    if registry is not None:
        keys.update(registry.keys())
    return keys


def new_document_id() -> str:
    """A random document id (80 bits) such as ``7K3M-Q9XD-2HPW-R4TB``: printed on the
    document as its 核验码, unguessable, so the register cannot be enumerated."""
    chars = "".join(secrets.choice(ID_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def normalise_id(value) -> str | None:
    """A document id as typed by a person (spaces, lower case) → the stored form, or None."""
    if not isinstance(value, str):
        return None
    value = "".join(value.split())[:64]
    if not sig.DOC_ID.fullmatch(value):
        return None
    return value


def find_entry(doc_id: str, registry: DocumentRegistry | None) -> dict | None:
    if registry is None or not doc_id:
        return None
    return registry.get(doc_id) or registry.get(doc_id.upper())


def verification_url(doc_id: str, base_url: str | None = None) -> str:
    """The public verification page for *doc_id* (what the QR code on a document links to)."""
    if base_url is None:
        portal = _portal()
        base_url = portal.absolute_url() if portal is not None else ""
    return f"{base_url.rstrip('/')}/@@verify-document?id={doc_id}"


# --- issuing and revoking ---------------------------------------------------------------------


@dataclass
class IssuedDocument:
    doc_id: str
    data: bytes  # the file to hand out: the signed PDF, or the unchanged data (detached)
    signature: bytes | None  # the detached .sig, or None for a signed PDF
    entry: dict


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _site_title(portal) -> str:
    title = portal.Title() if portal is not None and hasattr(portal, "Title") else ""
    return str(title or "")


def issue_document(
    data: bytes,
    kind: str,
    title: str,
    doc_id: str | None = None,
    issuer: str | None = None,
    detached: bool | None = None,
) -> IssuedDocument:
    """Sign *data* (SM2), enter it in the register and audit it; return what to hand out.

    PDFs get an embedded signature unless *detached* is True; other files always get a
    detached ``.sig``. *title* is shown on the public verification page to anyone who has
    the document id: name the document ("张三 金融人才实践基地结业证书"), never put an ID
    number or other personal data beyond the name in it.
    """
    portal = _portal()
    if portal is None:
        raise DocumentError("没有活动的站点，无法登记文件")
    registry = get_registry(portal, create=True)
    doc_id = doc_id or new_document_id()
    if doc_id in registry:
        raise DocumentError(f"文件编号已存在：{doc_id}")
    title = " ".join(str(title or "").split())[:MAX_TITLE]
    if not title:
        raise DocumentError("请填写文件名称")
    issuer = (issuer if issuer is not None else _site_title(portal))[: sig.MAX_ISSUER]
    data = bytes(data)
    if not data:
        raise DocumentError("文件为空，不能签发")
    use_detached = detached if detached is not None else not sig.is_pdf(data)
    signer = crypto.get_signer(sig.SIGNER)
    signed_at = _now()
    try:
        if use_detached:
            signature = sig.sign_detached(data, doc_id, kind, issuer, signer=signer, signed_at=signed_at)
            content, out = data, data
        else:
            out = sig.sign_pdf(data, doc_id, kind, issuer, signer=signer, signed_at=signed_at)
            signature = None
            content = sig.split_embedded(out)[0]
    except sig.SignatureError as error:
        raise DocumentError(str(error)) from None
    from finserv.core.audit import current_actor
    from finserv.core.audit import record

    entry = {
        "doc_id": doc_id,
        "kind": kind,
        "title": title,
        "sm3": crypto.sm3_hex(content),
        "size": len(content),
        "format": "detached" if use_detached else "pdf",
        "issuer": issuer,
        "issued_at": signed_at,
        "issued_by": current_actor(),
        "key": registry.remember_key(signer.public_key_pem()),
        "revoked": False,
        "revoked_at": None,
        "revoked_by": None,
        "revoke_reason": None,
    }
    registry.add(entry)
    record(
        "document.issue",
        target=f"document:{doc_id}",
        details={k: entry[k] for k in ("kind", "title", "sm3", "size", "format", "issuer", "key")},
    )
    return IssuedDocument(doc_id, out, signature, dict(entry))


def issue_pdf(
    template: str,
    data: dict,
    kind: str | None = None,
    title: str = "",
    issuer: str | None = None,
    base_url: str | None = None,
) -> IssuedDocument:
    """Render a layout template with a fresh document id and its verification QR code,
    then sign and register it — the one call for a certificate or a result letter."""
    from finserv.core.documents.layout import render_pdf

    doc_id = new_document_id()
    data = dict(data)
    data["doc_id"] = doc_id
    data.setdefault("verify_url", verification_url(doc_id, base_url))
    issuer = issuer if issuer is not None else data.get("authority")
    pdf = render_pdf(template, data)
    title = title or data.get("title") or data.get("heading") or template
    return issue_document(pdf, kind or template, title, doc_id=doc_id, issuer=issuer)


def revoke_document(doc_id: str, reason: str) -> dict:
    """Mark a document revoked (it then verifies as 已撤销); audited. Returns the entry."""
    registry = get_registry()
    entry = registry.get(doc_id) if registry is not None else None
    if entry is None:
        raise DocumentError(f"未找到该文件：{doc_id}")
    if entry["revoked"]:
        raise DocumentError("该文件已经撤销")
    reason = " ".join(str(reason or "").split())[:MAX_REASON]
    if not reason:
        raise DocumentError("请填写撤销原因")
    from finserv.core.audit import current_actor
    from finserv.core.audit import record

    entry = registry.replace(doc_id, revoked=True, revoked_at=_now(), revoked_by=current_actor(), revoke_reason=reason)
    record("document.revoke", target=f"document:{doc_id}", details={"kind": entry["kind"], "title": entry["title"], "reason": reason})
    return entry
