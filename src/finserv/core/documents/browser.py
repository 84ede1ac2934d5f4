"""@@verify-document: anyone (anonymous) checks whether a document is genuine.

GET shows the upload form, and with ``?id=<核验码>`` (the QR code's link) what the register
says about that document. POST (multipart: ``file``, optional ``signature``) gives the
verdict for the uploaded file. Nothing is stored and nothing is written: the file is read,
checked and forgotten. Bad input (no file, empty, over 20 MB, not a PDF and no ``.sig``)
gets status 400 and a message in Chinese.
"""

from __future__ import annotations

from Products.Five.browser import BrowserView
from zope.i18n import translate

from finserv import _
from finserv.core.documents import signature as sig
from finserv.core.documents.registry import normalise_id
from finserv.core.documents.verify import lookup_document
from finserv.core.documents.verify import verify_document

MAX_UPLOAD = 20 * 1024 * 1024  # bytes; an issued certificate or letter is well under 1 MB
MAX_UPLOAD_MB = MAX_UPLOAD // (1024 * 1024)
MAX_SIGNATURE = sig.MAX_DETACHED

MSG_NO_FILE = _("doc_error_no_file", default="请选择要核验的文件。")
MSG_EMPTY = _("doc_error_empty", default="上传的文件是空的。")
MSG_TOO_BIG = _(
    "doc_error_too_big",
    default="文件过大：超过 ${limit} MB，不是本系统签发的文件。",
    mapping={"limit": MAX_UPLOAD_MB},
)
MSG_SIG_TOO_BIG = _("doc_error_sig_too_big", default="签名文件过大，不是本系统生成的签名文件（.sig）。")
MSG_NOT_PDF = _(
    "doc_error_not_pdf",
    default="无法识别的文件：请上传本系统签发的 PDF 文件；Excel、CSV 等数据文件请同时上传其签名文件（.sig）。",
)
MSG_NOT_A_FILE = _("doc_error_not_a_file", default="请以文件形式上传。")
MSG_BAD_ID = _("doc_error_bad_id", default="核验码格式不正确。")


class UploadError(ValueError):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def read_upload(upload, limit: int, too_big) -> bytes | None:
    """The bytes of a form file field (at most *limit*), or None if no file was chosen."""
    if upload is None or upload == "" or upload == b"":
        return None
    if not hasattr(upload, "read"):
        raise UploadError(MSG_NOT_A_FILE)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if isinstance(data, str):
        data = data.encode("latin-1", "replace")
    if len(data) > limit:
        raise UploadError(too_big)
    if not data and not getattr(upload, "filename", None):
        return None  # an empty file input: nothing chosen
    return data


def check_input(data: bytes | None, signature: bytes | None) -> None:
    """Refuse what cannot be a document of ours (raises UploadError)."""
    if data is None:
        raise UploadError(MSG_NO_FILE)
    if not data:
        raise UploadError(MSG_EMPTY)
    if len(data) > MAX_UPLOAD:
        raise UploadError(MSG_TOO_BIG)
    if signature is not None and len(signature) > MAX_SIGNATURE:
        raise UploadError(MSG_SIG_TOO_BIG)
    if signature is None and not sig.is_pdf(data):
        raise UploadError(MSG_NOT_PDF)


def declared_length(request) -> int | None:
    try:
        return int(request.get_header("Content-Length") or "")
    except (TypeError, ValueError):
        return None


class VerifyDocumentView(BrowserView):
    """The public verification page (permission zope.Public)."""

    result = None  # a VerificationResult as a dict
    lookup = None  # the same, for ?id=
    error = None  # a translated message
    filename = None

    max_upload_mb = MAX_UPLOAD_MB

    def __call__(self):
        form = self.request.form
        if self.request.get("REQUEST_METHOD") == "POST":
            self.verify_upload(form)
        elif form.get("id"):
            self.lookup_id(form.get("id"))
        return self.index()

    def fail(self, message):
        self.request.response.setStatus(400)
        self.error = translate(message, context=self.request)

    def lookup_id(self, value):
        doc_id = normalise_id(value)
        if doc_id is None:
            self.fail(MSG_BAD_ID)
            return
        self.lookup = lookup_document(doc_id, request=self.request).as_dict()

    def verify_upload(self, form):
        if (declared_length(self.request) or 0) > MAX_UPLOAD + MAX_SIGNATURE + 64 * 1024:
            self.fail(MSG_TOO_BIG)
            return
        try:
            upload = form.get("file")
            data = read_upload(upload, MAX_UPLOAD, MSG_TOO_BIG)
            signature = read_upload(form.get("signature"), MAX_SIGNATURE, MSG_SIG_TOO_BIG)
            check_input(data, signature)
        except UploadError as error:
            self.fail(error.message)
            return
        self.filename = (getattr(upload, "filename", "") or "")[-200:]
        self.result = verify_document(data, signature, request=self.request).as_dict()

    def alert_class(self, result: dict) -> str:
        status = result["status"]
        if result["valid"] or status == "registered":
            tone = "alert-success"
        elif status in ("unsigned", "unregistered"):
            tone = "alert-warning"
        else:
            tone = "alert-danger"
        return f"alert {tone} fs-verify-result fs-verify-{status}"

    def display_time(self, value):
        """UTC ISO 8601 → 2025-06-18 10:00 (Beijing time), for the template."""
        return display_time(value)


def display_time(value) -> str:
    import datetime

    if not value:
        return ""
    try:
        moment = datetime.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return str(value)
    local = moment.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    return local.strftime("%Y-%m-%d %H:%M")
