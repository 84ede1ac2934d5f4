"""REST error answers a client can show: one readable message, plus the per-field errors.

plone.restapi raises ``BadRequest`` with a Python list of error dicts, which plone.rest turns
into ``str(list)`` — unreadable for the mini-program. This handler keeps plone.rest's answer
(type, context, traceback for managers) and replaces the message by the joined messages.
"""

from plone.rest.errors import ErrorHandling
from plone.rest.interfaces import IAPIRequest
from zExceptions import BadRequest
from zope.component import adapter


def validation_errors(exception):
    """The list of {field, message} a BadRequest carries, or None for a plain message."""
    arg = exception.args[0] if exception.args else None
    if isinstance(arg, list) and all(isinstance(e, dict) for e in arg):
        return [{"field": e.get("field"), "message": str(e.get("message", ""))} for e in arg]
    return None


@adapter(BadRequest, IAPIRequest)
class BadRequestHandling(ErrorHandling):
    def render_exception(self, exception):
        result = super().render_exception(exception)
        errors = validation_errors(exception)
        if result is not None and errors:
            result["message"] = "；".join(e["message"] for e in errors if e["message"])
            result["errors"] = errors
        return result
