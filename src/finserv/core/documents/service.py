"""REST: ``POST @verify-document`` and ``GET @verify-document?id=`` on the site root, anonymous.

POST takes either multipart/form-data (``file``, optional ``signature`` — the ``.sig``) or
JSON ``{"data": "<base64>", "signature": "<base64 or the .sig JSON>"}`` and answers the
verdict as JSON (see :class:`finserv.core.documents.verify.VerificationResult`)::

    {"valid": true, "status": "valid", "verdict": "真实有效", "reason": "…", "doc_id": "…",
     "kind": "certificate", "kind_title": "证书", "title": "…", "signed_at": "…Z",
     "issuer": "…", "issued_at": "…Z", "revoked_at": null, "revoke_reason": null, "sm3": "…"}

Bad input answers 400 ``{"type": "BadRequest", "message": "<Chinese>"}``; nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
import json

from plone.restapi.services import Service
from zope.i18n import translate

from finserv import _
from finserv.core.documents.browser import MAX_SIGNATURE
from finserv.core.documents.browser import MAX_UPLOAD
from finserv.core.documents.browser import MSG_BAD_ID
from finserv.core.documents.browser import MSG_SIG_TOO_BIG
from finserv.core.documents.browser import MSG_TOO_BIG
from finserv.core.documents.browser import UploadError
from finserv.core.documents.browser import check_input
from finserv.core.documents.browser import declared_length
from finserv.core.documents.browser import read_upload
from finserv.core.documents.registry import normalise_id
from finserv.core.documents.verify import lookup_document
from finserv.core.documents.verify import verify_document

MAX_JSON = (MAX_UPLOAD + MAX_SIGNATURE) * 4 // 3 + 64 * 1024  # base64 of both, and some JSON
MSG_BAD_JSON = _(
    "doc_error_bad_json",
    default="请求格式不正确：请以 multipart/form-data 上传 file 字段，或提交 JSON {\"data\": \"<Base64 编码的文件>\"}。",
)
MSG_BAD_BASE64 = _("doc_error_bad_base64", default="data 字段不是有效的 Base64 编码。")


def _b64(value, limit: int, too_big) -> bytes | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):  # the .sig given as a JSON object
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    if not isinstance(value, str):
        raise UploadError(MSG_BAD_BASE64)
    if value.lstrip().startswith("{"):  # the .sig given as JSON text
        raw = value.encode("utf-8")
        if len(raw) > limit:
            raise UploadError(too_big)
        return raw
    value = "".join(value.split())
    if len(value) > (limit + 2) * 4 // 3 + 4:
        raise UploadError(too_big)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise UploadError(MSG_BAD_BASE64) from None


def _json_body(request) -> dict:
    body = request.get("BODYFILE")
    if body is None:
        raise UploadError(MSG_BAD_JSON)
    body.seek(0)
    raw = body.read(MAX_JSON + 1)
    if len(raw) > MAX_JSON:
        raise UploadError(MSG_TOO_BIG)
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise UploadError(MSG_BAD_JSON) from None
    if not isinstance(payload, dict):
        raise UploadError(MSG_BAD_JSON)
    return payload


class VerifyDocumentPost(Service):
    def bad_request(self, message):
        self.request.response.setStatus(400)
        return {"type": "BadRequest", "message": translate(message, context=self.request)}

    def reply(self):
        try:
            data, signature = self.read()
            check_input(data, signature)
        except UploadError as error:
            return self.bad_request(error.message)
        return verify_document(data, signature, request=self.request).as_dict()

    def read(self) -> tuple[bytes | None, bytes | None]:
        length = declared_length(self.request)
        content_type = (self.request.get_header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            if (length or 0) > MAX_UPLOAD + MAX_SIGNATURE + 64 * 1024:
                raise UploadError(MSG_TOO_BIG)
            form = self.request.form
            return (
                read_upload(form.get("file"), MAX_UPLOAD, MSG_TOO_BIG),
                read_upload(form.get("signature"), MAX_SIGNATURE, MSG_SIG_TOO_BIG),
            )
        if (length or 0) > MAX_JSON:
            raise UploadError(MSG_TOO_BIG)
        payload = self._json_body()
        return (
            _b64(payload.get("data"), MAX_UPLOAD, MSG_TOO_BIG),
            _b64(payload.get("signature"), MAX_SIGNATURE, MSG_SIG_TOO_BIG),
        )

    def _json_body(self) -> dict:
        return _json_body(self.request)


class VerifyDocumentGet(Service):
    def reply(self):
        doc_id = normalise_id(self.request.form.get("id"))
        if doc_id is None:
            self.request.response.setStatus(400)
            return {"type": "BadRequest", "message": translate(MSG_BAD_ID, context=self.request)}
        return lookup_document(doc_id, request=self.request).as_dict()
