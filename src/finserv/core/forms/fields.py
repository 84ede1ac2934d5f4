"""finserv field types for collective.easyform's schema editor: 身份证号, 手机号码, 统一社会信用代码.

Each is a ``zope.schema.TextLine`` with a fixed ``kind`` (a key of
:data:`finserv.core.sensitive.KINDS`), so that

- the supermodel XML names it by its dotted class name
  (``<field name="idcard" type="finserv.core.forms.fields.IdNumber">``), read and written by a
  plain :class:`plone.supermodel.exportimport.BaseHandler`;
- plone.schemaeditor (easyform's "Define form fields") offers it through a named
  :class:`~plone.schemaeditor.fields.FieldFactory`, and edits it with the TextLine settings
  (its most specific schema, ``ICodeField``, extends ``ITextLine``);
- validation (easyform's own HTML form and :func:`finserv.core.forms.validate_answers`) uses our
  code checks with their Chinese messages;
- stored submissions seal the value with :mod:`finserv.core.sensitive` (encrypted, masked,
  blind-indexed).

The factories are listed in the ``easyform.allowedFields`` registry record by the install step.
"""

from finserv import _
from finserv.core import sensitive
from plone.schemaeditor.fields import FieldFactory
from plone.supermodel.exportimport import BaseHandler
from zope import schema
from zope.interface import Attribute
from zope.interface import implementer
from zope.schema.interfaces import ITextLine


class ICodeField(ITextLine):
    """A text line holding a national code or a mobile number, checked by its ``kind``."""

    kind = Attribute("Key of finserv.core.sensitive.KINDS")


class _CodeField(schema.TextLine):
    kind = "text"

    def _validate(self, value):
        super()._validate(value)
        validator, _masker, message = sensitive.KINDS[self.kind]
        if not validator(sensitive.normalise(self.kind, value)):
            raise sensitive.InvalidSensitiveValue(message, value)


@implementer(ICodeField)
class IdNumber(_CodeField):
    """身份证号 (GB 11643)."""

    kind = "id_number"


@implementer(ICodeField)
class Mobile(_CodeField):
    """手机号码 (mainland, 11 digits)."""

    kind = "mobile"


@implementer(ICodeField)
class Uscc(_CodeField):
    """统一社会信用代码 (GB 32100)."""

    kind = "uscc"


IdNumberFactory = FieldFactory(IdNumber, _("label_field_id_number", default="身份证号"))
MobileFactory = FieldFactory(Mobile, _("label_field_mobile", default="手机号码"))
UsccFactory = FieldFactory(Uscc, _("label_field_uscc", default="统一社会信用代码"))

IdNumberHandler = BaseHandler(IdNumber)
MobileHandler = BaseHandler(Mobile)
UsccHandler = BaseHandler(Uscc)

# dotted names: the supermodel type names and the easyform.allowedFields entries
FIELD_TYPES = (
    "finserv.core.forms.fields.IdNumber",
    "finserv.core.forms.fields.Mobile",
    "finserv.core.forms.fields.Uscc",
)
