"""REST for a form: ``GET <easyform>/@form-schema`` and ``POST <easyform>/@form-submit``.

The generic case stores into a :class:`SubmissionStore` on the EasyForm itself; modules with
their own container (an event's registrations) call ``validate_answers`` and
``store_submission`` from their own services.
"""

from finserv import _
from finserv.core.forms.jsonschema import form_schema
from finserv.core.forms.store import store_submission
from finserv.core.forms.validate import validate_answers
from plone.protect.interfaces import IDisableCSRFProtection
from plone.restapi.services import Service
from zope.i18n import translate
from zope.interface import alsoProvides

import json


class FormSchemaGet(Service):
    """GET …/@form-schema → the form's JSON Schema (anyone who can view the form)."""

    def reply(self):
        return form_schema(self.context, self.request)


def read_submission(request):
    """(answers, files) from a JSON body ({"answers": {...}, "files": {name: {filename,
    content_type, data(base64)}}}, or a flat object) or a multipart form (an ``answers`` JSON
    part, or one part per field; uploads as file parts). Raises ValueError on a bad body."""
    content_type = (request.getHeader("Content-Type") or "").lower()
    if content_type.startswith("multipart/form-data") or content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        answers, files = {}, {}
        for key, value in request.form.items():
            if hasattr(value, "filename") and hasattr(value, "read"):
                files[key] = value
            elif key == "answers" and isinstance(value, str):
                answers.update(json.loads(value))
            else:
                answers[key] = value
        return answers, files
    body = request.get("BODY") or b"{}"
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    if "answers" in data and isinstance(data["answers"], dict):
        answers = data["answers"]
    else:
        answers = {k: v for k, v in data.items() if k != "files"}
    files = data.get("files") or {}
    if not isinstance(files, dict):
        raise ValueError("files not an object")
    return answers, files


class FormSubmitPost(Service):
    """POST …/@form-submit → 201 {"id"} or 400 {"message", "errors": [{field, message}]}."""

    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        try:
            answers, files = read_submission(self.request)
        except (ValueError, TypeError):
            message = translate(_("forms_error_body", default="提交的数据格式无效。"), context=self.request)
            self.request.response.setStatus(400)
            return {"type": "BadRequest", "message": message, "errors": []}
        cleaned, errors = validate_answers(self.context, answers, files, request=self.request)
        if errors:
            self.request.response.setStatus(400)
            return {
                "type": "BadRequest",
                "message": "；".join(e["message"] for e in errors),
                "errors": errors,
            }
        record = store_submission(self.context, self.context, cleaned)
        self.request.response.setStatus(201)
        return {"id": record.id}
