"""Server-side validation of a form's answers against the EasyForm's own model.

``validate_answers(form, answers, files) -> (cleaned, errors)``: ``cleaned`` maps field names to
Python values (str, date, datetime, bool, int, float, list; files as
``{"filename", "content_type", "data"}``), ``errors`` is a list of ``{"field", "message"}`` with
Chinese messages. Callers store nothing when ``errors`` is not empty.
"""

from finserv import _
from finserv.core import sensitive
from finserv.core.forms.model import choice_terms
from finserv.core.forms.model import easyform_validators
from finserv.core.forms.model import field_kind
from finserv.core.forms.model import form_fields
from zope.component import queryUtility
from zope.globalrequest import getRequest
from zope.i18n import translate

import base64
import binascii
import datetime
import mimetypes
import re

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
TRUE = ("true", "1", "on", "yes")
FALSE = ("false", "0", "off", "no", "")

REQUIRED = _("forms_error_required", default="此项为必填项。")
NOT_TEXT = _("forms_error_not_text", default="应为文字。")
ONE_LINE = _("forms_error_one_line", default="不能包含换行。")
BAD_CHOICE = _("forms_error_choice", default="请从给定选项中选择。")
BAD_DATE = _("forms_error_date", default="日期格式无效，应为 YYYY-MM-DD。")
BAD_DATETIME = _("forms_error_datetime", default="日期时间格式无效，应为 YYYY-MM-DDThh:mm。")
BAD_EMAIL = _("forms_error_email", default="电子邮件地址无效。")
BAD_INT = _("forms_error_int", default="应为整数。")
BAD_FLOAT = _("forms_error_float", default="应为数字。")
BAD_BOOL = _("forms_error_bool", default="应为“是”或“否”。")
BAD_FILE = _("forms_error_file", default="文件无法读取，请重新上传。")
EMPTY_FILE = _("forms_error_file_empty", default="文件为空。")
INVALID = _("forms_error_invalid", default="输入无效。")


def _t(message, request=None, **mapping):
    if mapping:
        message = _(message, default=message.default, mapping=mapping)
    request = request if request is not None else getRequest()
    if request is not None:
        return translate(message, context=request)
    return translate(message, target_language="zh_CN")


def max_file_size() -> int:
    """Upload limit in bytes: easyform's ``easyform.max_filesize`` record, else 10 MB."""
    from plone import api

    try:
        value = api.portal.get_registry_record("easyform.max_filesize", default=None)
    except Exception:
        value = None
    return int(value) if value else DEFAULT_MAX_FILE_SIZE


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:g} MB"
    return f"{size / 1024:g} KB"


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == () or value == {}


def read_file(value):
    """An upload as {filename, content_type, data}: from a multipart ``FileUpload``, a dict
    with base64 ``data`` (JSON clients) or raw bytes ``data`` (Python callers)."""
    if hasattr(value, "read") and hasattr(value, "filename"):  # ZPublisher FileUpload
        value.seek(0)
        data = value.read()
        filename = value.filename or ""
        headers = getattr(value, "headers", None)
        content_type = headers.get("content-type") if headers is not None else None
    elif isinstance(value, dict):
        filename = value.get("filename") or ""
        content_type = value.get("content_type") or value.get("content-type")
        data = value.get("data")
        if isinstance(data, str):
            try:
                data = base64.b64decode(data.split(",", 1)[-1] if data.startswith("data:") else data, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("bad base64")
        if not isinstance(data, bytes):
            raise ValueError("no data")
    else:
        raise ValueError("not a file")
    filename = str(filename).replace("\\", "/").rsplit("/", 1)[-1]
    guessed = mimetypes.guess_type(filename, strict=False)[0]
    if not content_type or content_type == "application/octet-stream":
        content_type = guessed or "application/octet-stream"
    return {"filename": filename, "content_type": content_type.split(";")[0].strip().lower(), "data": data}


def _accepted(accept, content_type, filename) -> bool:
    if not accept:
        return True
    extension = ("." + filename.rsplit(".", 1)[-1].lower()) if "." in filename else ""
    major, _sep, minor = content_type.partition("/")
    for item in accept:
        item = item.strip().lower()
        if item.startswith("."):
            if item == extension:
                return True
            item = mimetypes.guess_type("x" + item, strict=False)[0] or ""
        a_major, _sep, a_minor = item.partition("/")
        if a_major == major and a_minor in (minor, "*"):
            return True
    return False


def _check_file(field, kind, value, request):
    try:
        upload = read_file(value)
    except ValueError:
        return None, _t(BAD_FILE, request)
    if not upload["data"]:
        return None, _t(EMPTY_FILE, request)
    limit = max_file_size()
    if len(upload["data"]) > limit:
        message = _("forms_error_file_size", default="文件过大：不能超过 ${max}。")
        return None, _t(message, request, max=_human_size(limit))
    accept = tuple(getattr(field, "accept", ()) or ())
    if kind == "image" and not accept:
        accept = ("image/*",)
    if not _accepted(accept, upload["content_type"], upload["filename"]):
        message = _("forms_error_file_type", default="文件类型不允许：仅接受 ${types}。")
        return None, _t(message, request, types="、".join(accept))
    return upload, None


def _text(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError
    return value.strip()


def _convert(field, kind, value, request):
    """(python value, error message or None) for one non-empty answer."""
    if kind in ("id_number", "mobile", "uscc"):
        try:
            value = sensitive.normalise(kind, _text(value))
        except TypeError:
            return None, _t(NOT_TEXT, request)
        validator, _masker, message = sensitive.KINDS[kind]
        if not validator(value):
            return None, _t(message, request)
        return value, None
    if kind == "choice":
        options = {str(v): v for v, _title in choice_terms(field)}
        if str(value) not in options:
            return None, _t(BAD_CHOICE, request)
        return options[str(value)], None
    if kind == "multichoice":
        options = {str(v): v for v, _title in choice_terms(field)}
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(str(v) not in options for v in values):
            return None, _t(BAD_CHOICE, request)
        return [options[str(v)] for v in dict.fromkeys(str(v) for v in values)], None
    if kind == "date":
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value, None
        try:
            return datetime.date.fromisoformat(_text(value)), None
        except (TypeError, ValueError):
            return None, _t(BAD_DATE, request)
    if kind == "datetime":
        if isinstance(value, datetime.datetime):
            return value, None
        try:
            return datetime.datetime.fromisoformat(_text(value).replace("Z", "+00:00")), None
        except (TypeError, ValueError):
            return None, _t(BAD_DATETIME, request)
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        text = str(value).strip().lower()
        if text in TRUE or text in FALSE:
            return text in TRUE, None
        return None, _t(BAD_BOOL, request)
    if kind == "int":
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(str(value).strip()) if not isinstance(value, float) else int(value), None
        except (TypeError, ValueError):
            return None, _t(BAD_INT, request)
    if kind == "float":
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(str(value).strip()), None
        except (TypeError, ValueError):
            return None, _t(BAD_FLOAT, request)
    try:
        value = _text(value)
    except TypeError:
        return None, _t(NOT_TEXT, request)
    if kind != "text" and ("\n" in value or "\r" in value):
        return None, _t(ONE_LINE, request)
    if kind == "email" and not EMAIL_RE.match(value):
        return None, _t(BAD_EMAIL, request)
    return value, None


def _check_limits(field, kind, value, request):
    if isinstance(value, str) and kind not in ("choice",):
        max_length = getattr(field, "max_length", None)
        if max_length and len(value) > max_length:
            message = _("forms_error_too_long", default="不能超过 ${max} 个字符。")
            return _t(message, request, max=str(max_length))
        min_length = getattr(field, "min_length", None)
        if min_length and len(value) < min_length:
            message = _("forms_error_too_short", default="至少需要 ${min} 个字符。")
            return _t(message, request, min=str(min_length))
    if kind in ("int", "float", "date", "datetime"):
        low, high = getattr(field, "min", None), getattr(field, "max", None)
        try:
            if low is not None and value < low:
                message = _("forms_error_too_small", default="不能小于 ${min}。")
                return _t(message, request, min=str(low))
            if high is not None and value > high:
                message = _("forms_error_too_big", default="不能大于 ${max}。")
                return _t(message, request, max=str(high))
        except TypeError:
            return _t(INVALID, request)
    for name in easyform_validators(field):
        if name == "isValidEmail":
            if not EMAIL_RE.match(str(value)):
                return _t(BAD_EMAIL, request)
            continue
        from collective.easyform.interfaces import IFieldValidator

        validator = queryUtility(IFieldValidator, name=name)
        if validator is not None and validator(value, REQUEST=request):
            message = _("forms_error_validator", default="格式不正确。")
            return _t(message, request)
    return None


def validate_answers(form, answers: dict, files: dict | None = None, request=None):
    """Check ``answers`` (and uploads in ``files``) against ``form``'s fields.

    Returns ``(cleaned, errors)``; see the module docstring.
    """
    request = request if request is not None else getRequest()
    answers = answers or {}
    files = files or {}
    cleaned = {}
    errors = []
    if not isinstance(answers, dict) or not isinstance(files, dict):
        return {}, [{"field": None, "message": _t(INVALID, request)}]
    for name, field, _fieldset in form_fields(form):
        kind = field_kind(field)
        value = files.get(name) if kind in ("file", "image") and name in files else answers.get(name)
        if isinstance(value, str) and kind not in ("file", "image"):
            value = value.strip()
        if _empty(value):
            if field.required:
                errors.append({"field": name, "message": _t(REQUIRED, request)})
            continue
        if kind in ("file", "image"):
            value, message = _check_file(field, kind, value, request)
        else:
            value, message = _convert(field, kind, value, request)
            if message is None:
                message = _check_limits(field, kind, value, request)
        if message is not None:
            errors.append({"field": name, "message": message})
        else:
            cleaned[name] = value
    return cleaned, errors
