"""Which files may be attached to a policy, checked on upload (browser form and REST alike)."""

from Acquisition import aq_parent
from finserv import _
from finserv.portal.content.policy import IPolicy
from plone.namedfile.interfaces import INamedFileField
from z3c.form import validator
from zExceptions import BadRequest
from zope.globalrequest import getRequest
from zope.i18n import translate
from zope.interface import Invalid

import os

ALLOWED_EXTENSIONS = frozenset(
    {".pdf", ".ofd", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et", ".ppt", ".pptx",
     ".txt", ".zip", ".jpg", ".jpeg", ".png"}
)
MAX_SIZE = 50 * 1024 * 1024


def attachment_problem(value):
    """The reason an uploaded file may not be attached to a policy, or None."""
    if value is None:
        return None
    name = getattr(value, "filename", "") or ""
    if os.path.splitext(name.lower())[1] not in ALLOWED_EXTENSIONS:
        return _(
            "error_attachment_type",
            default="不允许上传该类型的附件（${name}）。允许的格式：PDF、OFD、Word、WPS、Excel、PPT、TXT、ZIP、JPG、PNG。",
            mapping={"name": name},
        )
    if (getattr(value, "size", 0) or 0) > MAX_SIZE:
        return _("error_attachment_size", default="附件不能超过 50 MB。")
    return None


def _in_policy(context):
    return IPolicy.providedBy(context) or IPolicy.providedBy(aq_parent(context))


class PolicyAttachmentValidator(validator.SimpleFieldValidator):
    """Inline form error for a file field of an item added to, or edited in, a policy."""

    def validate(self, value):
        super().validate(value)
        if _in_policy(self.context):
            problem = attachment_problem(value)
            if problem:
                raise Invalid(problem)


validator.WidgetValidatorDiscriminators(PolicyAttachmentValidator, field=INamedFileField)


def guard_attachment(obj, event):
    """Last line for every other path (REST, scripts): refuse and roll back the transaction."""
    if not IPolicy.providedBy(aq_parent(obj)):
        return
    problem = attachment_problem(getattr(obj, "file", None))
    if problem:
        raise BadRequest(translate(problem, context=getRequest()))
